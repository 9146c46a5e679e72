"""
The degradation problem, reproduced on digits
=============================================

Figure 1 of the ResNet paper shows a 56-layer plain network ending with a *higher
training error* than a 20-layer one, and Figure 4 shows shortcuts reversing that.
This script reruns the experiment at laptop scale: scikit-learn's handwritten digits
(they ship with the package), upsampled to 32x32, and four networks built from the
same refmodels ResNet code: 10 and 34 layers, each as a plain stack
(``residual=False``) and as a ResNet. Same data, same optimizer, same number of steps.
"""

# %%
# Data and models
# ---------------
# Basic-block ResNets at an eighth of ResNet-18's width: ``layers=(n, n, n, n)``
# gives ``8n + 2`` weight layers, so n=1 is a 10-layer net and n=4 a 34-layer one.
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import refmodels

digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0  # (1797, 1, 8, 8) in [0, 1]
images = F.interpolate(images, size=32, mode="bilinear").repeat(1, 3, 1, 1)  # (1797, 3, 32, 32)
labels = torch.tensor(digits.target)
print("images", tuple(images.shape), "labels", tuple(labels.shape))


def make(blocks_per_stage, residual):
    return refmodels.create_model(
        "resnet18", layers=(blocks_per_stage,) * 4, widths=(8, 16, 32, 64), stem_width=8,
        num_classes=10, residual=residual,
    )


# %%
# Train each network the same way
# -------------------------------
# SGD with momentum, as in the paper; 150 steps of 64 images, the same batches for
# every network (one seeded generator each).
def train(model, steps=150, batch=64, seed=0):
    torch.manual_seed(seed)
    batches = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=batches)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        accuracy = (model(images).argmax(1) == labels).float().mean().item()
    return losses, accuracy


runs = {}
for n in (1, 4):
    for residual in (False, True):
        torch.manual_seed(0)
        name = f"{'ResNet' if residual else 'plain'}-{8 * n + 2}"
        runs[name] = train(make(n, residual))
        print(f"{name:10s} final training loss {sum(runs[name][0][-20:]) / 20:.3f}, "
              f"training accuracy {runs[name][1]:.3f}")

# the two claims the ResNet page makes about this figure
final = {name: sum(losses[-20:]) / 20 for name, (losses, _) in runs.items()}
print("final losses (mean of the last 20 steps):", {k: round(v, 4) for k, v in final.items()})
# margins measured over 3 seeds x 2 CPU kernels: plain-34 / plain-10 13x..49x, plain-34 / ResNet-34 6.6x..12x
assert final["plain-34"] > 3 * final["plain-10"], \
    f"plain-34 {final['plain-34']:.3f} vs plain-10 {final['plain-10']:.3f}, claim: the deeper plain net trains worse (3x)"
assert final["ResNet-34"] < final["plain-34"] / 3, \
    f"ResNet-34 {final['ResNet-34']:.3f} vs plain-34 {final['plain-34']:.3f}, claim: shortcuts cut the loss 3x or more"

# %%
# Training curves
# ---------------
# Look at the two plain networks: the deeper one trains *worse* (left), which is the
# degradation problem. With shortcuts (right) the deeper network closes most of the
# gap to the shallow one (compare ResNet-34's and plain-34's training accuracies in the
# legends and the printout above), but in these few steps it does not overtake
# ResNet-10: the paper's reversal (its Figure 4) needs longer training. Curves are
# smoothed over 10 steps.
def smooth(values, k=10):
    return torch.tensor(values).unfold(0, k, 1).mean(1).numpy()


fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, kind in zip(axes, ("plain", "ResNet")):
    for name, (losses, accuracy) in runs.items():
        if name.startswith(kind):
            ax.plot(smooth(losses), label=f"{name} (train acc {accuracy:.2f})")
    ax.set_title(f"{kind} networks")
    ax.set_xlabel("step")
    ax.legend()
axes[0].set_ylabel("training loss")
fig.tight_layout()
plt.show()
