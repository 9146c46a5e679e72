"""
ResNet-50 at a glance: the shape flow
=====================================

A diagram of ResNet-50 drawn from :func:`refmodels.trace`: one box per stage, its
height proportional to the feature map's side and its width to the log of its
channel count, labelled with the output shape, the number of blocks, the
parameters and the multiply-adds (MACs) the trace measured. Nothing in the picture
is typed by hand; change the model and the picture follows.
"""

# %%
# Trace the model
# ---------------
# Build ResNet-50 on the ``meta`` device (shapes only, no memory), trace one
# 224x224 image through it and keep the rows of the stem, the four stages and the head.
import math

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import refmodels

with torch.device("meta"):
    model = refmodels.create_model("resnet50")
tr = refmodels.trace(model, (1, 3, 224, 224))

parts = [("input", None), ("stem", tr["stem"])]
parts += [(f"stage {i + 1}", tr[f"stages.{i}"]) for i in range(4)]
parts += [("pool", tr["pool"]), ("fc", tr["fc"])]
for label, row in parts[1:]:
    print(f"{label:8s} {str(row.output_shapes[0]):22s} {row.params:>12,} params {row.macs / 1e6:>9.1f} M MACs")

# %%
# Draw the shape flow
# -------------------
# Look at how the boxes shrink in height (the image side halves at each stage)
# while they grow in width (channels double): the MACs per stage stay of the same
# order, which is the design rule ResNet inherited from VGG.
fig, ax = plt.subplots(figsize=(11, 4.2))
x = 0.0
centres = []
for label, row in parts:
    shape = (1, 3, 224, 224) if row is None else row.output_shapes[0]
    channels = shape[1]
    side = shape[2] if len(shape) == 4 else 1
    width = 0.35 + 0.22 * math.log2(channels)
    height = 0.6 + 3.0 * side / 224
    colour = "#dddddd" if row is None else ("#9ecae1" if label.startswith("stage") else "#fdd0a2")
    ax.add_patch(FancyBboxPatch((x, -height / 2), width, height, boxstyle="round,pad=0.02", fc=colour, ec="black"))
    ax.text(x + width / 2, height / 2 + 0.15, label, ha="center", va="bottom", fontsize=10, weight="bold")
    text = "x".join(map(str, shape[1:]))
    if row is not None and label.startswith("stage"):
        blocks = len(model.stages[int(label[-1]) - 1])
        text += f"\n{blocks} blocks"
    if row is not None:
        text += f"\n{row.params / 1e6:.2f} M params\n{row.macs / 1e9:.2f} G MACs"
    ax.text(x + width / 2, -height / 2 - 0.15, text, ha="center", va="top", fontsize=8)
    centres.append((x, x + width))
    x += width + 0.45
for (_, right), (left, _) in zip(centres, centres[1:]):
    ax.add_patch(FancyArrowPatch((right + 0.03, 0), (left - 0.03, 0), arrowstyle="-|>", mutation_scale=12))
ax.set_xlim(-0.2, x)
ax.set_ylim(-3.6, 2.6)
ax.axis("off")
ax.set_title(
    f"ResNet-50: {tr.total_params / 1e6:.2f} M parameters, {tr.total_macs / 1e9:.2f} G MACs "
    f"({tr.total_flops / 1e9:.2f} GFLOPs) for one 224x224 image"
)
fig.tight_layout()
plt.show()

# %%
# Inside one bottleneck block
# ---------------------------
# The first block of stage 2 halves the feature map and doubles the channels, so
# its shortcut is a projection (a strided 1x1 convolution). Each bar is one
# convolution, its length the MACs the trace measured. The 3x3 is the largest single
# convolution, yet it works on the reduced width (the output channels divided by the
# expansion factor printed below), which is why the block is called a bottleneck; the
# 1x1 reduce (conv1) and the projection shortcut cost nearly as much each.
block = "stages.1.0"
convs = [f"{block}.conv1", f"{block}.conv2", f"{block}.conv3", f"{block}.shortcut.conv"]
rows = [tr[name] for name in convs]
for name, r in zip(convs, rows):
    print(f"{name:24s} {r.macs / 1e6:7.1f} M MACs")
print("expansion factor:", type(model.stages[1][0]).expansion)
fig, ax = plt.subplots(figsize=(9, 3.4))
labels = [
    f"{name.removeprefix(block + '.')}  {r.input_shapes[0][1:]} -> {r.output_shapes[0][1:]}"
    for name, r in zip(convs, rows)
]
ax.barh(labels, [r.macs / 1e6 for r in rows], color=["#9ecae1", "#3182bd", "#9ecae1", "#fdae6b"])
ax.invert_yaxis()
ax.set_xlabel("M MACs")
ax.set_title(f"{block}: 1x1 reduce, 3x3, 1x1 expand,\nand the projection shortcut")
fig.tight_layout()
plt.show()
