"""
Overestimation, measured: one critic against clipped double Q
=============================================================

A critic trained towards :math:`r + \\gamma Q(s', \\mu(s'))`, with the actor
:math:`\\mu` chasing the critic's own maximum, drifts above the true value: the
errors the actor exploits are the positive ones. This script trains two short
agents on ``Pendulum-v1`` with :func:`refmodels.rl.td3.train_td3`, identical except
for the target: one critic (``twin=False``, DDPG's target) and TD3's minimum of two
(``twin=True``). It then compares each agent's value estimate at a set of start
states with the *true* discounted return of its policy from those states, measured
by running the policy (a Monte-Carlo return). The agents are small and the runs
short (a few thousand steps), enough to see the bias, not to solve the task.
"""

# %%
# Train the two agents
# --------------------
# Same seed, same data collection, same networks; only the target differs.
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch

from refmodels.rl.td3 import TD3Config, train_td3

torch.set_num_threads(1)
budget = dict(total_steps=3000, learning_starts=500, hidden=64, seed=0)
agents = {twin: train_td3(TD3Config(twin=twin, **budget)) for twin in (False, True)}
for twin, result in agents.items():
    print(f"twin={twin}: {result.gradient_steps} gradient steps in {result.seconds:.1f} s")


# %%
# Estimate against truth
# ----------------------
# For 20 start states, the estimate is the critic's :math:`Q(s_0, \mu(s_0))` (for
# TD3 the minimum of its two critics, the value its target uses); the truth is
# :math:`\sum_t \gamma^t r_t` from running :math:`\mu` for 1000 steps, long enough
# that :math:`\gamma^{1000}` makes the rest negligible.
def estimate_and_truth(result, twin, starts=20, horizon=1000, gamma=0.99):
    actor, (q1, q2) = result.actor, result.critics
    env = gym.make("Pendulum-v1", max_episode_steps=horizon)
    estimates, truths = [], []
    for i in range(starts):
        obs, _ = env.reset(seed=1000 + i)
        with torch.no_grad():
            s = torch.as_tensor(obs)[None]
            a = actor(s)
            q = torch.min(q1(s, a), q2(s, a)) if twin else q1(s, a)
        estimates.append(q.item())
        ret, discount = 0.0, 1.0
        for _ in range(horizon):
            with torch.no_grad():
                action = actor(torch.as_tensor(obs)[None])[0].numpy()
            obs, reward, terminated, truncated, _ = env.step(action)
            ret += discount * reward
            discount *= gamma
            if terminated or truncated:
                break
        truths.append(ret)
    return np.array(estimates), np.array(truths)


measured = {twin: estimate_and_truth(agents[twin], twin) for twin in (False, True)}
for twin, (est, true) in measured.items():
    name = "clipped double Q (TD3)" if twin else "single critic (DDPG target)"
    print(f"{name:28s} estimate {est.mean():8.1f}   Monte-Carlo return {true.mean():8.1f}   "
          f"bias {np.mean(est - true):+7.1f}")

# %%
# Plot the bias
# -------------
# Look at the sign of the gap. The single critic believes its policy is worth more
# than running it returns: that is the overestimation TD3's Figure 1 shows on
# MuJoCo. The minimum of two critics removes most of it, and where it errs it errs
# low, which is the safer side: an underestimated action is not exploited by the
# actor, so the error does not feed on itself.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
labels = ["single critic\n(twin=False)", "clipped double Q\n(twin=True)"]
means = [(measured[t][0].mean(), measured[t][1].mean()) for t in (False, True)]
xs = np.arange(2)
axes[0].bar(xs - 0.18, [m[0] for m in means], 0.36, color="#e6550d", label="critic estimate")
axes[0].bar(xs + 0.18, [m[1] for m in means], 0.36, color="#3182bd", label="Monte-Carlo return")
axes[0].set_xticks(xs, labels)
axes[0].set_ylabel("discounted return from $s_0$")
axes[0].legend(fontsize=8)
for twin, colour in ((False, "#e6550d"), (True, "#3182bd")):
    est, true = measured[twin]
    axes[1].scatter(true, est, s=14, color=colour, label=labels[twin].replace("\n", " "))
lo = min(min(m[0].min(), m[1].min()) for m in measured.values())
hi = max(max(m[0].max(), m[1].max()) for m in measured.values())
axes[1].plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--", label="estimate = truth")
axes[1].set_xlabel("Monte-Carlo return")
axes[1].set_ylabel("critic estimate")
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()
