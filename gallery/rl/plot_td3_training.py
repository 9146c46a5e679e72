"""
TD3 on Pendulum: the page's expert, trained once
=================================================

The TD3 page's agent, trained with the page's settings through
:func:`refmodels.rl.experts.td3_pendulum`. In the site's build this script runs before
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

settings = dict(total_steps=8_000, learning_starts=1_000, hidden=128, gamma=0.98, seed=0)  # the TD3 page's
result = experts.td3_pendulum(**settings)
returns = np.array(result.episode_returns)
print(f"{len(returns)} episodes, {result.gradient_steps:,} critic updates, {len(result.actor_losses):,} actor updates")
print(f"training took {result.produced_seconds:.1f} s wall when it was produced")

# %%
# Learning curve and the critics' loss
# ------------------------------------
# Pendulum's returns run from about -1,600 (spinning) to near 0 at best, about -150 on
# average once swung up and held.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(result.episode_steps, returns, "o-", ms=3, color="#3182bd")
axes[0].set_xlabel("environment steps")
axes[0].set_ylabel("episode return")
axes[1].semilogy(result.critic_losses, color="#756bb1", lw=0.5)
axes[1].set_xlabel("critic update")
axes[1].set_ylabel("critic loss")
fig.tight_layout()
plt.show()
