"""
AlexNet at a glance: the shape flow
===================================

AlexNet as torchvision builds it, traced with :func:`refmodels.trace` on one
224x224 image: one box per layer, its height proportional to the feature map's side
and its width to the log of its channel count, labelled with the output shape, the
parameters and the multiply-adds. The second figure shows where the weights are:
almost all in the fully connected layers, while the convolutions do almost all the
arithmetic.
"""

# %%
# The shape flow
# --------------
import math

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import refmodels

with torch.device("meta"):
    model = refmodels.create_model("alexnet")
tr = refmodels.trace(model, (1, 3, 224, 224))
names = [f"convs.conv{i}" for i in range(1, 6)] + ["classifier.fc6", "classifier.fc7", "classifier.fc8"]
parts = [("input", (1, 3, 224, 224), 0, 0)]
parts += [(n.split(".")[-1], tr[n].output_shapes[0], tr[n].params, tr[n].macs) for n in names]
for label, shape, params, macs in parts:
    print(f"{label:6s} {str(shape):20s} {params:>12,} params {macs / 1e6:>8.1f} M MACs")

fig, ax = plt.subplots(figsize=(12, 4))
left = 0.0
for label, shape, params, macs in parts:
    side = shape[2] if len(shape) == 4 else 1
    width = 0.3 + 0.12 * math.log2(shape[1])
    height = 0.5 + 3.0 * side / 224
    colour = "#dddddd" if label == "input" else ("#9ecae1" if label.startswith("conv") else "#fdd0a2")
    ax.add_patch(FancyBboxPatch((left, -height / 2), width, height, boxstyle="round,pad=0.02", fc=colour, ec="black"))
    ax.text(left + width / 2, height / 2 + 0.12, label, ha="center", va="bottom", fontsize=9, weight="bold")
    text = "x".join(map(str, shape[1:]))
    if params:
        text += f"\n{params / 1e6:.2f} M p\n{macs / 1e6:.0f} M MACs"
    ax.text(left + width / 2, -height / 2 - 0.12, text, ha="center", va="top", fontsize=7)
    if label != "input":
        ax.add_patch(FancyArrowPatch((left - 0.28, 0), (left - 0.03, 0), arrowstyle="-|>", mutation_scale=10))
    left += width + 0.32
ax.set_xlim(-0.2, left)
ax.set_ylim(-3.0, 2.4)
ax.axis("off")
ax.set_title(f"AlexNet (torchvision): {tr.total_params / 1e6:.2f} M parameters, {tr.total_macs / 1e9:.2f} G MACs")
fig.tight_layout()
plt.show()

# %%
# Weights against arithmetic
# --------------------------
# Look at the two bars of fc6: it holds more than half the weights and costs
# almost nothing to run; the convolutions are the reverse.
fc_share = sum(p[2] for p in parts if p[0].startswith("fc")) / tr.total_params
conv_mac_share = sum(p[3] for p in parts if p[0].startswith("conv")) / tr.total_macs
fc6_share = tr["classifier.fc6"].params / tr.total_params
print(f"fully connected: {fc_share:.0%} of the weights (fc6 alone {fc6_share:.0%}); "
      f"convolutions: {conv_mac_share:.0%} of the multiply-adds")
# exact counts of the architecture (meta device), not measurements
assert fc_share > 0.9 and conv_mac_share > 0.9, f"{fc_share:.3f}, {conv_mac_share:.3f}; claim: almost all (over 90%)"
assert fc6_share > 0.5, f"fc6 holds {fc6_share:.3f} of the weights; claim: more than half"
labels = [p[0] for p in parts[1:]]
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].bar(labels, [p[2] / 1e6 for p in parts[1:]], color="#3182bd")
axes[0].set_ylabel("M parameters")
axes[1].bar(labels, [p[3] / 1e6 for p in parts[1:]], color="#e6550d")
axes[1].set_ylabel("M MACs")
fig.tight_layout()
plt.show()
