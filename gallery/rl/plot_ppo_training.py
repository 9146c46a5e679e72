"""
PPO on CartPole: the page's expert, trained once
=================================================

The PPO page's agent, trained with the page's settings through
:func:`refmodels.rl.experts.ppo_cartpole`. In the site's build this script runs before
the pages, so it is where the training happens; the page (and any later page or test
that needs a trained CartPole agent) loads the stored result from the artifact cache.
Run on its own, the script trains the agent once and keeps it for the next run.
"""

# %%
# Train (or load) the expert
# --------------------------
import matplotlib.pyplot as plt
import numpy as np

from refmodels.rl import experts

settings = dict(total_steps=100_000, seed=0)  # the PPO page's settings: the page loads this run
result = experts.ppo_cartpole(**settings)
returns = np.array(result.episode_returns)
print(f"{len(returns)} episodes, {result.env_steps:,} environment steps, {result.gradient_steps:,} gradient steps")
print(f"training took {result.produced_seconds:.1f} s wall when it was produced")

# %%
# Learning curve
# --------------
# Each dot is one training episode's return (500 is the time limit, the best possible).
window = 10
smooth = np.convolve(returns, np.ones(window) / window, mode="valid")
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(result.episode_steps, returns, ".", ms=3, color="0.6", label="episode return")
ax.plot(result.episode_steps[window - 1:], smooth, color="#3182bd", label=f"mean of {window}")
ax.set_xlabel("environment steps")
ax.set_ylabel("return")
ax.legend()
fig.tight_layout()
plt.show()
