"""
SAC on Pendulum: the page's expert, trained once
=================================================

The SAC page's agent, trained with the page's settings through
:func:`refmodels.rl.experts.sac_pendulum`. In the site's build this script runs before
the pages, so it is where the training happens; the page (and any later page or test
that needs a trained Pendulum agent) loads the stored result from the artifact cache.
Run on its own, the script trains the agent once and keeps it for the next run.
"""

# %%
# Train (or load) the expert
# --------------------------
import matplotlib.pyplot as plt
import numpy as np

from refmodels.rl import experts

settings = dict(total_steps=8_000, learning_starts=1_000, hidden=128, seed=0)  # the SAC page's settings
result = experts.sac_pendulum(**settings)
returns = np.array(result.episode_returns)
print(f"{len(returns)} episodes, {result.gradient_steps:,} gradient steps")
print(f"training took {result.produced_seconds:.1f} s wall when it was produced")

# %%
# Learning curve and the temperature
# ----------------------------------
# The temperature :math:`\alpha` is learned: it falls while the policy's entropy is
# above the target and rises when it drops below.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(result.episode_steps, returns, "o-", ms=3, color="#3182bd")
axes[0].set_xlabel("environment steps")
axes[0].set_ylabel("episode return")
axes[1].semilogy(result.alphas, color="#756bb1")
axes[1].set_xlabel("gradient step")
axes[1].set_ylabel(r"temperature $\alpha$")
fig.tight_layout()
plt.show()
