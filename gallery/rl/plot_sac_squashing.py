"""
SAC's squashed Gaussian: why the log-probability needs a correction
===================================================================

SAC's actor samples :math:`u \\sim \\mathcal{N}(\\mu, \\sigma^2)` and acts with
:math:`a = \\text{scale} \\cdot \\tanh(u)`, so every action lands inside the bounds.
The squash changes the density: near the bounds a wide range of :math:`u` is
crushed into a thin sliver of :math:`a`, so the density of :math:`a` piles up
there. This script draws samples through the squash, histograms the actions, and
overlays the density :func:`refmodels.rl.sac.squashed_log_prob` computes (with the
change-of-variables correction) and the uncorrected Gaussian density of :math:`u`.
"""

# %%
# Sample through the squash
# -------------------------
# Pendulum's torque bounds are [-2, 2], so scale = 2. A Gaussian with a large
# standard deviation pushes many samples into the saturated part of tanh.
import math

import matplotlib.pyplot as plt
import torch

from refmodels.rl.sac import squashed_log_prob

torch.manual_seed(0)
scale = torch.tensor([2.0])
grid_a = torch.linspace(-1.995, 1.995, 801)[:, None]
grid_u = torch.atanh(grid_a / scale)  # the u that maps to each action
cases = {}
for mean, std in [(0.5, 0.6), (0.5, 2.0)]:
    a = scale * torch.tanh(mean + std * torch.randn(200_000, 1))
    m, ls = torch.full_like(grid_u, mean), torch.full_like(grid_u, math.log(std))
    density = squashed_log_prob(grid_u, m, ls, scale).exp()
    naive = torch.distributions.Normal(mean, std).log_prob(grid_u).exp()[:, 0]
    # compare with the histogram of the samples, bin by bin, away from the bounds
    hist, edges = torch.histogram(a[:, 0], bins=80, range=(-1.9, 1.9))
    centres = (edges[1:] + edges[:-1])[:, None] / 2
    hist = hist / (len(a) * (edges[1] - edges[0]))  # counts -> density
    u_c = torch.atanh(centres / scale)
    corrected = squashed_log_prob(u_c, torch.full_like(u_c, mean), torch.full_like(u_c, math.log(std)), scale).exp()
    uncorrected = torch.distributions.Normal(mean, std).log_prob(u_c).exp()[:, 0]
    cases[mean, std] = (a, density, naive)
    print(f"u ~ N({mean}, {std}^2): largest gap to the histogram, corrected {(corrected - hist).abs().max():.3f}, "
          f"uncorrected {(uncorrected - hist).abs().max():.3f}")

# %%
# Plot the histograms and both densities
# --------------------------------------
# Look at the edges. With a narrow Gaussian (left) the squash barely matters; with a
# wide one (right) the actions pile up at the bounds, and only the corrected density,
# with the Jacobian term :math:`-\log(\text{scale}\,(1 - \tanh^2 u))`, follows the
# histogram. The uncorrected one is not even a density of :math:`a` (it does not
# integrate to one). SAC's entropy bonus is the expectation of this log-probability,
# so without the correction it would reward the wrong thing.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, ((mean, std), (a, density, naive)) in zip(axes, cases.items()):
    ax.hist(a[:, 0].numpy(), bins=160, range=(-2, 2), density=True, color="0.8", label="samples of a")
    ax.plot(grid_a[:, 0], density, color="#3182bd", lw=2, label="exp(squashed_log_prob)")
    ax.plot(grid_a[:, 0], naive, color="#e6550d", ls="--", label="N(u; mean, std), uncorrected")
    ax.set_xlabel("action a = 2 tanh(u)")
    ax.set_title(f"u ~ N({mean}, {std}$^2$)")
    ax.set_ylim(0, 1.3 * max(density[100:-100].max().item(), naive.max().item()))
axes[0].set_ylabel("density")
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
