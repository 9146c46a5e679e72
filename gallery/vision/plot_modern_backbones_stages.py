"""
Four modern backbones side by side: the shape flow
===================================================

ConvNeXt-T, PoolFormer-S12, FastViT-SA12 and EfficientViT-B1, each traced with
:func:`refmodels.trace` on the ``meta`` device (shapes only, no memory). For every
stage we draw the feature-map side and the channel count, and the parameters and
multiply-adds (MACs) the trace measured. All four keep ResNet's pyramid (the side
halves, the channels grow), which is why any of them can replace a ResNet as a
detection or segmentation backbone.
"""

# %%
# Trace the four models
# ---------------------
# FastViT was trained at 256x256, the others at 224x224; each is traced at its own size.
import matplotlib.pyplot as plt
import torch

import refmodels

MODELS = {"convnext_tiny": 224, "poolformer_s12": 224, "fastvit_sa12": 256, "efficientvit_b1": 224}
traces = {}
for name, size in MODELS.items():
    with torch.device("meta"):
        model = refmodels.create_model(name)
    traces[name] = refmodels.trace(model, (1, 3, size, size))
    rows = [traces[name]["stem"]] + [traces[name][f"stages.{i}"] for i in range(4)]
    print(name, [r.output_shapes[0][1:] for r in rows])

# %%
# Sides, channels, parameters, cost
# ---------------------------------
# Look at the top row: the four pyramids end at the same stride (32), and all but
# EfficientViT reach stride 4 in the stem (EfficientViT's stem stops at stride 2 and its
# first stage does the rest). The bottom row shows where they differ: ConvNeXt spends
# most of its parameters and MACs in stages 3 and 4, EfficientViT is far cheaper throughout.
fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
labels = ["stem", "stage 1", "stage 2", "stage 3", "stage 4"]
for name, tr in traces.items():
    rows = [tr["stem"]] + [tr[f"stages.{i}"] for i in range(4)]
    axes[0, 0].plot(labels, [r.output_shapes[0][2] for r in rows], marker="o", label=name)
    axes[0, 1].plot(labels, [r.output_shapes[0][1] for r in rows], marker="o", label=name)
    axes[1, 0].plot(labels, [r.params / 1e6 for r in rows], marker="o", label=name)
    axes[1, 1].plot(labels, [r.macs / 1e9 for r in rows], marker="o", label=name)
titles = ["feature-map side (pixels)", "channels", "parameters (M)", "multiply-adds (G)"]
for ax, title in zip(axes.flat, titles):
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=8)
axes[0, 0].set_yscale("log", base=2)
axes[0, 1].set_yscale("log", base=2)
axes[0, 0].legend(fontsize=8)
fig.tight_layout()
plt.show()
