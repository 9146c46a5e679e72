"""
Overestimation, measured: one critic against clipped double Q
=============================================================

An actor trained to maximise a learned critic finds the actions where the critic's
errors are positive, so the critic's value of the actor's action is biased upwards.
This script isolates that bias on ``Pendulum-v1`` states, where the true value is
known: a one-step problem (no bootstrapping), whose reward is Pendulum's own cost
function observed with noise. Two :class:`refmodels.rl.td3.Critic` networks learn
it from the same noisy data, an :class:`refmodels.rl.td3.Actor` climbs the first
critic, and we compare, at the actor's actions, the single critic's estimate (the
target DDPG uses), the minimum of the two (TD3's clipped double Q) and the truth.
In full TD3 training this error is fed back through every bootstrapped target, which
is what lets it grow; here we measure it at its source, in a few seconds.
"""

# %%
# Real states, a known reward, noisy observations of it
# -----------------------------------------------------
# Pendulum's reward is :math:`-(\theta^2 + 0.1\dot\theta^2 + 0.001u^2)`: it barely
# depends on the torque :math:`u`, so no action is really better than another, and
# any advantage a critic sees in one is an error.
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch

from refmodels.rl.td3 import Actor, Critic

torch.manual_seed(0)
torch.set_num_threads(1)
env = gym.make("Pendulum-v1")
low, high = env.action_space.low, env.action_space.high
states = torch.as_tensor(np.stack([env.reset(seed=i)[0] for i in range(2000)]))  # (2000, 3)


def true_reward(s, a):
    theta = torch.atan2(s[:, 1], s[:, 0])  # from (cos, sin) back to the angle
    return -(theta**2 + 0.1 * s[:, 2] ** 2 + 0.001 * a[:, 0] ** 2)


actions = torch.empty(len(states), 1).uniform_(-2.0, 2.0)
noisy = true_reward(states, actions) + torch.randn(len(states))  # reward noise, std 1

# %%
# Two critics on the same data, one actor on the first critic
# -----------------------------------------------------------
# Both critics regress the same noisy rewards from different random initialisations,
# like TD3's pair; the actor then does what TD3's actor does, ascend :math:`Q_1`.
q1, q2 = Critic(3, 1, hidden=64), Critic(3, 1, hidden=64)
opt = torch.optim.Adam([*q1.parameters(), *q2.parameters()], lr=1e-3)
for step in range(1500):
    idx = torch.randint(0, len(states), (128,))
    loss = sum(((q(states[idx], actions[idx]) - noisy[idx]) ** 2).mean() for q in (q1, q2))
    opt.zero_grad()
    loss.backward()
    opt.step()
actor = Actor(3, 1, low, high, hidden=64)
actor_opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
for step in range(500):
    actor_loss = -q1(states, actor(states)).mean()
    actor_opt.zero_grad()
    actor_loss.backward()
    actor_opt.step()

# %%
# Estimate against truth
# ----------------------
# At the random actions of the data, the critic's error averages out. At the
# actor's actions it does not: the actor went looking for the positive errors.
with torch.no_grad():
    a_data, a_pi = actions, actor(states)
    rows = {
        "single critic Q1, data actions": q1(states, a_data) - true_reward(states, a_data),
        "single critic Q1, actor's actions": q1(states, a_pi) - true_reward(states, a_pi),
        "min(Q1, Q2), actor's actions": torch.min(q1(states, a_pi), q2(states, a_pi)) - true_reward(states, a_pi),
    }
for name, err in rows.items():
    print(f"{name:36s} mean error (estimate - truth) {err.mean().item():+.3f}")

# %%
# Plot the bias
# -------------
# Look at the middle bar: the single critic, evaluated where its own actor points,
# is the optimistic one; that is the number DDPG's target bootstraps from. The
# minimum of two critics (right) pulls it back, which is TD3's first fix.
fig, ax = plt.subplots(figsize=(7, 3.2))
means = [err.mean().item() for err in rows.values()]
sems = [err.std().item() / len(err) ** 0.5 for err in rows.values()]
colours = ["0.6", "#e6550d", "#3182bd"]
ax.bar(range(3), means, yerr=sems, color=colours, capsize=4)
ax.set_xticks(range(3), ["\n".join(name.rsplit(", ", 1)) for name in rows], fontsize=8)
ax.axhline(0, color="black", lw=0.8)
ax.set_ylabel("mean of estimate - true reward")
ax.set_title("Overestimation at the actor's actions, and clipped double Q")
fig.tight_layout()
plt.show()
