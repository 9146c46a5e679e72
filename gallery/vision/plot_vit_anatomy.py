"""
ViT-B/16 at a glance: patches, tokens and attention on a real photo
===================================================================

The cat photo that ships with scikit-image goes through ViT-B/16 from
:mod:`refmodels`. The first figure is the shape flow measured by
:func:`refmodels.trace`; the second cuts the photo into the 196 patches the model
reads; the last two show attention maps and attention rollout.

The weights are random (timm's initialisation): without internet there are no
pretrained ViT weights to load. The attention pictures therefore show the
*mechanics* (what a map is, how rollout multiplies the layers' maps through the
residual stream) on an untrained model, not learned attention. Set ``PRETRAINED = True`` on a machine with internet to load timm's
ImageNet weights through :func:`refmodels.from_timm` and see learned maps.
"""

# %%
# The shape flow
# --------------
# Trace one 224x224 image through ViT-B/16. Look at what does *not* change: after
# the patch embedding every block maps (1, 197, 768) to (1, 197, 768). All the
# work is in how the 197 tokens exchange information.
import math

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import refmodels
from refmodels.data import center_crop, load_photo, to_model_input

PRETRAINED = False  # True needs internet: timm downloads the ImageNet weights

torch.manual_seed(0)
if PRETRAINED:
    import timm

    model = refmodels.from_timm(timm.create_model("vit_base_patch16_224", pretrained=True))
else:
    model = refmodels.create_model("vit_base_patch16_224")
model.eval()
photo = center_crop(load_photo("chelsea"))
x = to_model_input(photo, size=224)
tr = refmodels.trace(model, x)

depth = model.cfg.depth
stages = [("image", tuple(x.shape), 0, 0)]
stages.append(("patch embed", tr["patch_embed"].output_shapes[0], tr["patch_embed"].params, tr["patch_embed"].macs))
pos_params = model.cls_token.numel() + model.pos_embed.numel()
stages.append(("+ [CLS], + pos", tr["blocks.0"].input_shapes[0], pos_params, 0))
blocks_params = sum(tr[f"blocks.{i}"].params for i in range(depth))
blocks_macs = sum(tr[f"blocks.{i}"].macs for i in range(depth))
stages.append((f"{depth} blocks", tr[f"blocks.{depth - 1}"].output_shapes[0], blocks_params, blocks_macs))
stages.append(("LayerNorm", tr["norm"].output_shapes[0], tr["norm"].params, 0))
stages.append(("[CLS] token", tr["head"].input_shapes[0], 0, 0))
stages.append(("head", tr["head"].output_shapes[0], tr["head"].params, tr["head"].macs))
for name, shape, params, macs in stages:
    print(f"{name:15s} {str(shape):20s} {params:>12,} params {macs / 1e9:6.2f} G MACs")

fig, ax = plt.subplots(figsize=(12, 3.6))
left = 0.0
for i, (name, shape, params, macs) in enumerate(stages):
    width = 1.35
    height = 0.8 + 0.35 * math.log10(math.prod(shape[1:]))
    colour = "#9ecae1" if "blocks" in name else ("#dddddd" if i == 0 else "#fdd0a2")
    ax.add_patch(FancyBboxPatch((left, -height / 2), width, height, boxstyle="round,pad=0.03", fc=colour, ec="black"))
    ax.text(left + width / 2, height / 2 + 0.12, name, ha="center", va="bottom", fontsize=9, weight="bold")
    text = "x".join(map(str, shape[1:]))
    if params:
        text += f"\n{params / 1e6:.2f} M params"
    if macs:
        text += f"\n{macs / 1e9:.2f} G MACs"
    ax.text(left + width / 2, 0, text, ha="center", va="center", fontsize=8)
    if i:
        ax.add_patch(FancyArrowPatch((left - 0.33, 0), (left - 0.03, 0), arrowstyle="-|>", mutation_scale=12))
    left += width + 0.36
ax.set_xlim(-0.2, left)
ax.set_ylim(-2.3, 2.3)
ax.axis("off")
ax.set_title(f"ViT-B/16: {tr.total_params / 1e6:.2f} M parameters, {tr.total_macs / 1e9:.2f} G MACs per 224x224 image")
fig.tight_layout()
plt.show()

# %%
# 196 patches
# -----------
# The model never sees pixels as a grid: it sees a *sequence* of 16x16x3 patches,
# read row by row. Look at the numbers: patch 0 is the top-left corner, patch 195 the
# bottom-right. Only the position embeddings tell the model which is which.
p = model.cfg.patch_size
grid = 224 // p
image = torch.from_numpy(photo).permute(2, 0, 1)[None].float()
image = torch.nn.functional.interpolate(image, size=(224, 224), mode="bilinear", antialias=True)[0] / 255
fig, axes = plt.subplots(1, 2, figsize=(11, 5), gridspec_kw={"width_ratios": [1, 1.3]})
axes[0].imshow(image.permute(1, 2, 0))
for k in range(1, grid):
    axes[0].axhline(k * p - 0.5, color="white", lw=0.6)
    axes[0].axvline(k * p - 0.5, color="white", lw=0.6)
for idx in (0, 13, 97, 195):
    axes[0].text((idx % grid) * p + p / 2, (idx // grid) * p + p / 2, str(idx), color="yellow", ha="center",
                 va="center", fontsize=7, weight="bold")
axes[0].set_title(f"{grid}x{grid} = {grid * grid} patches of {p}x{p} pixels")
patches = image.unfold(1, p, p).unfold(2, p, p)  # (3, 14, 14, 16, 16)
patches = patches.permute(1, 2, 0, 3, 4).reshape(grid * grid, 3, p, p)  # (196, 3, 16, 16), row by row
strip = torch.ones(3, 6 * (p + 2), 14 * (p + 2))
for n in range(84):  # the first 84 patches (six rows of the image), as a sequence
    r, c = divmod(n, 14)
    strip[:, r * (p + 2): r * (p + 2) + p, c * (p + 2): c * (p + 2) + p] = patches[n]
axes[1].imshow(strip.permute(1, 2, 0))
axes[1].set_title("the same patches as a sequence: tokens 0-83 of 196")
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# Where the [CLS] token looks
# ---------------------------
# Each head's attention row for [CLS] (its 196 weights over the patches), in block 1
# and block 12, laid back on the 14x14 grid. These are random-init weights (timm's
# initialisation, no training), so the maps say nothing about what a trained model
# attends to. The titles give each map's entropy beside log(197), the entropy of
# attention spread evenly over all 197 tokens. All maps share one colour scale, from 0
# to twice the uniform weight (2/197): at random init every map is close to uniform,
# and a per-map scale would blow tiny differences up into apparent structure.
with torch.no_grad():
    h = model.embed(x)
    maps = []
    for block in model.blocks:
        maps.append(block.attn.weights(block.norm1(h))[0])  # (nh, 197, 197)
        h = block(h)
heads = [0, 3, 6, 9]
fig, axes = plt.subplots(2, len(heads), figsize=(11, 5.6))
for r, layer in enumerate((0, depth - 1)):
    for c, head in enumerate(heads):
        a = maps[layer][head, 0]
        entropy = -(a * a.log()).sum().item()
        axes[r, c].imshow(photo)
        heat = a[1:].reshape(1, 1, grid, grid)
        heat = torch.nn.functional.interpolate(heat, size=photo.shape[:2], mode="nearest")[0, 0]
        axes[r, c].imshow(heat, cmap="inferno", alpha=0.6, vmin=0, vmax=2 / maps[layer].shape[-1])
        axes[r, c].set_title(f"block {layer + 1}, head {head}\nentropy {entropy:.3f} / {math.log(197):.3f}", fontsize=9)
        axes[r, c].axis("off")
fig.tight_layout()
plt.show()

# %%
# Attention rollout
# -----------------
# Rollout (Abnar and Zuidema, 2020) follows information through the residual stream:
# at each block average the heads, add the identity for the skip connection,
# renormalise the rows, and multiply the matrices from the first block up. The row of
# [CLS] in the product says how much each patch contributed to it. The titles give the
# ratio of the largest to the smallest weight after each block (random-init weights).
with torch.no_grad():
    rollout = torch.eye(maps[0].shape[-1])
    rolled = []
    for a in maps:
        a = a.mean(0) + torch.eye(a.shape[-1])  # heads averaged, plus the residual path
        a = a / a.sum(-1, keepdim=True)
        rollout = a @ rollout
        rolled.append(rollout[0, 1:].reshape(grid, grid))
fig, axes = plt.subplots(1, 4, figsize=(11, 3.4))
for ax, layer in zip(axes, (0, 3, 7, depth - 1)):
    ax.imshow(rolled[layer], cmap="inferno")
    spread = (rolled[layer].max() / rolled[layer].min()).item()
    ax.set_title(f"after block {layer + 1}\nmax/min {spread:.2f}", fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
