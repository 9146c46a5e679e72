"""
Which numbers share a statistic
===============================

BatchNorm, LayerNorm, InstanceNorm and GroupNorm compute the same thing, a mean and a
variance, over different sets of numbers. This script finds each set from the
refmodels layers themselves, without reading their code: it asks autograd which
inputs one output depends on. For a batch of feature maps of shape (B, C, H*W) the
answer is a block of the (B, C, H*W) cube, drawn the way the GroupNorm paper draws
it (its Figure 2).
"""

# %%
# Ask each layer which inputs one output depends on
# -------------------------------------------------
# ``depends_on`` differentiates one output number, at batch 0, channel 0, position 0,
# with respect to the whole input. The non-zero entries of that gradient are the
# numbers that entered its mean and variance. BatchNorm runs in training mode (batch
# statistics); InstanceNorm is GroupNorm with one channel per group, and LayerNorm
# over a feature map normalizes (C, H*W) together. RMSNorm uses LayerNorm's set.
import matplotlib.pyplot as plt
import numpy as np
import torch

from refmodels.foundations.normalization import BatchNorm, GroupNorm, LayerNorm

B, C, S = 4, 6, 5  # batch, channels, positions (H*W flattened)


def depends_on(layer: torch.nn.Module) -> np.ndarray:
    """Boolean (B, C, S) mask of the inputs that output [0, 0, 0] depends on."""
    torch.manual_seed(0)
    x = torch.randn(B, C, S, requires_grad=True)
    layer(x)[0, 0, 0].backward()
    return (x.grad.abs() > 0).numpy()


LAYERS = {
    "BatchNorm": BatchNorm(C).train(),
    "LayerNorm": LayerNorm((C, S)),
    "InstanceNorm = GroupNorm(C groups)": GroupNorm(C, C),
    "GroupNorm (2 groups)": GroupNorm(2, C),
}
masks = {name: depends_on(layer) for name, layer in LAYERS.items()}
for name, mask in masks.items():
    print(f"{name:36s} one statistic from {mask.sum():3d} of {mask.size} numbers, "
          f"batch axis {sorted(set(np.nonzero(mask)[0].tolist()))}, channels {sorted(set(np.nonzero(mask)[1].tolist()))}")

# The sets the page describes: BN spans the batch, the others stay inside one sample.
# These are exact (structural), not measured: a statistic either includes a number or not.
bn, ln = masks["BatchNorm"], masks["LayerNorm"]
assert bn[:, 0, :].all() and not bn[:, 1:, :].any(), f"BatchNorm set {bn.sum()} numbers; claim: channel 0 of every sample"
assert ln[0].all() and not ln[1:].any(), f"LayerNorm set {ln.sum()} numbers; claim: all of sample 0, nothing else"
n_in = masks["InstanceNorm = GroupNorm(C groups)"].sum()
assert n_in == S, f"InstanceNorm set {n_in} numbers; claim: one channel of one sample ({S})"
n_gn = masks["GroupNorm (2 groups)"].sum()
assert n_gn == (C // 2) * S, f"GroupNorm(2) set {n_gn} numbers; claim: half the channels of one sample ({(C // 2) * S})"

# %%
# Draw the four cubes
# -------------------
# Axes: batch (B), channels (C) and spatial positions (H, W flattened). Shaded cubes
# share one mean and one variance with the corner output; the rest of the cube
# is drawn as an outline.
fig = plt.figure(figsize=(8, 7))
for i, (name, mask) in enumerate(masks.items(), start=1):
    ax = fig.add_subplot(2, 2, i, projection="3d")
    # two calls, so the shaded block gets its own faces (one call hides faces between voxels)
    ax.voxels(mask, facecolors=(0.19, 0.51, 0.74, 1.0), edgecolor=(0.2, 0.2, 0.2, 0.5), linewidth=0.3)
    ax.voxels(~mask, facecolors=(0.9, 0.9, 0.9, 0.15), edgecolor=(0.3, 0.3, 0.3, 0.25), linewidth=0.3)
    ax.set_box_aspect(None, zoom=0.8)
    ax.set_xlabel("B", fontsize=11, labelpad=-8)
    ax.set_ylabel("C", fontsize=11, labelpad=-8)
    ax.set_zlabel("H, W", fontsize=11, labelpad=-4)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_zticks([])
    ax.set_title(name, fontsize=11)
    ax.view_init(elev=22, azim=-55)
fig.suptitle("The numbers that share one statistic, found with autograd", fontsize=12)
fig.tight_layout()
plt.show()
