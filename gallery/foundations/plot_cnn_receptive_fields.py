"""
Receptive fields of ResNet-50 on a real photo
=============================================

How much of the photo does one unit of each ResNet-50 stage see? The squares are
computed by :func:`refmodels.vision.receptive_field.receptive_fields` from the
network's layers (kernel, stride, padding), not typed. The heat maps measure the
same thing the other way: back-propagate from the centre unit of a stage to the
input and look where the gradient is not zero.

Two kinds of network are measured. With all weights positive (and max pools made
average pools, so no gradient is dropped) the gradient fills exactly the
theoretical square. With the random weights of an untrained network, the gradient's
*magnitude* is concentrated near the centre: the "effective receptive field"
(Luo et al., 2016) is much smaller than the theoretical one. The script prints the
share of the gradient's magnitude inside the central half of each field.
"""

# %%
# Theoretical receptive fields, from the layers
# ---------------------------------------------
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

import refmodels
from refmodels.data import center_crop, load_photo
from refmodels.vision.receptive_field import conv_layers, positive_twin, receptive_fields

torch.manual_seed(0)
# the field does not depend on the number of channels: a narrow ResNet-50 is enough
model = refmodels.create_model("resnet50", stem_width=4, widths=(4, 4, 4, 4)).eval()
layers = conv_layers(model, (1, 3, 224, 224), skip=("shortcut",))
rows = receptive_fields(layers)
stage_rows = {}
for i in range(4):
    last = max(j for j, layer in enumerate(layers) if layer.name.startswith(f"stages.{i}."))
    stage_rows[f"stage {i + 1}"] = rows[last]
stage_rows = {"stem": rows[1], **stage_rows}
for name, r in stage_rows.items():
    print(f"{name:8s} receptive field {r.size:4d} px, jump {r.jump:3d} px")

photo = center_crop(load_photo("chelsea"))
scale = photo.shape[0] / 224  # draw the 224x224 fields on the full-resolution crop
fig, ax = plt.subplots(figsize=(5.5, 5.5))
ax.imshow(photo)
colours = ["#fd8d3c", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
for (name, r), colour in zip(stage_rows.items(), colours):
    side = r.size * scale
    centre = photo.shape[0] / 2
    ax.add_patch(Rectangle((centre - side / 2, centre - side / 2), side, side, fill=False, ec=colour, lw=2,
                           label=f"{name}: {r.size} px"))
ax.set_xlim(-photo.shape[0] * 0.6, photo.shape[0] * 1.6)
ax.set_ylim(photo.shape[0] * 1.6, -photo.shape[0] * 0.6)
ax.legend(loc="lower left", fontsize=8)
ax.set_title("ResNet-50: field of the centre unit of each stage (224x224 input)")
ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# The same fields measured by gradients
# -------------------------------------
# Top row: the all-positive twin; the non-zero gradient fills the square exactly.
# Bottom row: the random network; the gradient magnitude on a log scale, with the
# colours clipped to three orders of magnitude below the largest value (anything
# smaller is black). The gradient is non-zero over the whole theoretical square, but
# its magnitude fades long before the square's edge: the titles give the share of
# it inside the central half of the field (half the side, a quarter of the area).
side = 320
x = torch.rand(1, 3, side, side, dtype=torch.float64)
twin = positive_twin(model)
random_net = model.double()
fig, axes = plt.subplots(2, 3, figsize=(10, 6.8))
for c, stage in enumerate((0, 1, 2)):
    for r, net in enumerate((twin, random_net)):
        inp = x.clone().requires_grad_(True)
        out = net.stages[: stage + 1](net.stem(inp))
        out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
        grad = inp.grad[0].abs().sum(0)  # (side, side)
        size = stage_rows[f"stage {stage + 1}"].size
        if r == 0:
            axes[r, c].imshow((grad > 0).double(), cmap="magma")
            title = "positive twin"
        else:
            log_grad = (grad + 1e-30).log10()
            top = log_grad.max().item()
            axes[r, c].imshow(log_grad, cmap="magma", vmin=top - 3, vmax=top)
            half = size // 2  # the central half of the field's side
            lo = side // 2 - half // 2
            share = (grad[lo : lo + half, lo : lo + half].sum() / grad.sum()).item()
            print(f"stage {stage + 1}: field {size} px, {share:.0%} of |grad| in the central {half} px")
            title = f"random weights, log |grad| (3 decades)\n{share:.0%} of it in the central {half} px"
        axes[r, c].set_title(title + f"\nstage {stage + 1}, theory {size} px, input {side} px", fontsize=9)
        axes[r, c].axis("off")
fig.tight_layout()
plt.show()
