"""
RepMixer folded into one convolution
====================================

FastViT's RepMixer computes ``x + gamma * (DWConvBN(x) - BN(x))`` with a 3x3 depthwise
conv branch, a 1x1 branch and two BatchNorm "identity" branches. In eval mode each
branch is a convolution, so their sum is one. This script builds one RepMixer from
:mod:`refmodels.vision.fastvit`, gives it non-trivial weights, draws the 3x3 kernel of
one channel for every branch and for the folded convolution, and checks that the
folded block gives the same output.
"""

# %%
# Build a RepMixer and fold a copy of it
# --------------------------------------
import copy

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from refmodels.convert import perturb_
from refmodels.vision.fastvit import RepMixer, fuse_bn, identity_kernel

torch.manual_seed(0)
mixer = perturb_(RepMixer(16), seed=1).eval()
with torch.no_grad():
    mixer.gamma.fill_(0.5)  # a visible layer scale; trained values vary per channel
fused = copy.deepcopy(mixer)
fused.reparameterize()

x = torch.randn(1, 16, 32, 32)
with torch.no_grad():
    diff = (mixer(x) - fused(x)).abs().max().item()
print(f"largest |difference| between the branched and the folded block: {diff:.1e}")

# %%
# The kernels of channel 0
# ------------------------
# Each panel is a 3x3 kernel. The 1x1 branch and the BatchNorm skips only touch the
# centre tap; the folded kernel (right) is the identity plus gamma times the sum of the
# four branches (conv + 1x1 + skip - norm), with gamma set to the value printed below, so
# its centre carries the skip connection and the rest is the learned 3x3.
print("gamma (layer scale) of channel 0:", mixer.gamma.flatten()[0].item())
with torch.no_grad():
    c = 0
    k3, _ = fuse_bn(mixer.mixer.conv.conv.weight, mixer.mixer.conv.bn)
    k1, _ = fuse_bn(mixer.mixer.scale.conv.weight, mixer.mixer.scale.bn)
    eye = identity_kernel(16, 16, 3, k3)
    kskip, _ = fuse_bn(eye, mixer.mixer.skip)
    knorm, _ = fuse_bn(eye, mixer.norm.skip)
    panels = {
        "3x3 conv + BN": k3[c, 0],
        "1x1 conv + BN (padded)": F.pad(k1, [1, 1, 1, 1])[c, 0],
        "BN skip": kskip[c, 0],
        "minus BN (norm)": -knorm[c, 0],
        "folded: one 3x3 conv": fused.fused.weight[c, 0],
    }
    panels = {title: kernel.detach() for title, kernel in panels.items()}
fig, axes = plt.subplots(1, len(panels), figsize=(13, 2.9))
vmax = max(p.abs().max().item() for p in panels.values())
for ax, (title, kernel) in zip(axes, panels.items()):
    ax.imshow(kernel.numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    for (i, j), v in zip([(i, j) for i in range(3) for j in range(3)], kernel.flatten().tolist()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                color="white" if abs(v) > 0.6 * vmax else "black")  # readable on dark cells
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.suptitle(f"RepMixer, channel {c}: four training-time branches -> one inference kernel (max diff {diff:.1e})")
fig.tight_layout()
plt.show()
