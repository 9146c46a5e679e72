"""
ResNet-50 feature maps of a real photo
======================================

The cat photo that ships with scikit-image goes through ResNet-50 and we draw a
few channels of the feature map after the stem and after each of the four stages.

The weights here are random (He initialisation, as at the start of training):
without internet there are no ImageNet weights to load. The pictures therefore
show what the *architecture* does (the resolution falls from 224 to 7 while the
channels grow from 3 to 2048) rather than learned features. To see learned
features, set ``PRETRAINED = True`` on a machine with internet: the script then
loads timm's ImageNet weights through :func:`refmodels.from_timm`.
"""

# %%
# The photo and the model
# -----------------------
import matplotlib.pyplot as plt
import torch

import refmodels
from refmodels.data import center_crop, load_photo, to_model_input

PRETRAINED = False  # True needs internet: timm downloads the ImageNet weights

torch.manual_seed(0)
photo = center_crop(load_photo("chelsea"))  # the square the model sees
x = to_model_input(photo, size=224)  # (H, W, 3) uint8 -> (1, 3, 224, 224), ImageNet-normalised
if PRETRAINED:
    import timm

    model = refmodels.from_timm(timm.create_model("resnet50", pretrained=True))
else:
    model = refmodels.create_model("resnet50")
model.eval()
with torch.no_grad():
    feats = model.features(x)
for name, f in feats.items():
    print(f"{name:7s} {tuple(f.shape)}")

# %%
# Six channels per stage
# ----------------------
# Each row is one point in the network. Look at the grid getting coarser: a pixel
# of a stage-4 map stands for a 32x32 patch of the photo. Each channel is scaled
# to its own range, so compare shapes, not brightness, across panels.
channels = 6
fig, axes = plt.subplots(len(feats), channels + 1, figsize=(12, 9.5))
for r, (name, f) in enumerate(feats.items()):
    axes[r, 0].imshow(photo)
    axes[r, 0].set_title("input" if r == 0 else "", fontsize=9)
    axes[r, 0].set_ylabel(f"{name}\n{f.shape[1]}x{f.shape[2]}x{f.shape[3]}", fontsize=9)
    # the channels with the largest mean response, so the panels are not blank
    top = f[0].mean(dim=(1, 2)).topk(channels).indices
    for c, idx in enumerate(top.tolist()):
        axes[r, c + 1].imshow(f[0, idx], cmap="viridis")
        axes[r, c + 1].set_title(f"channel {idx}", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("ResNet-50 (random He-initialised weights) on skimage's 'chelsea'")
fig.tight_layout()
plt.show()

# %%
# Mean activation per stage
# -------------------------
# The channel-averaged map at each stage, upsampled to the photo's size and laid
# over it, shows which regions drive the activations at each resolution.
fig, axes = plt.subplots(1, len(feats), figsize=(14, 3))
for ax, (name, f) in zip(axes, feats.items()):
    heat = torch.nn.functional.interpolate(f.mean(1, keepdim=True), size=photo.shape[:2], mode="bilinear")[0, 0]
    ax.imshow(photo)
    ax.imshow(heat, cmap="magma", alpha=0.6)
    ax.set_title(f"{name}: {f.shape[2]}x{f.shape[3]} grid", fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
