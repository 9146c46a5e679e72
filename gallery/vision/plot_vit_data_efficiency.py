"""
Why ViT needs more data: a CNN and a ViT on a few hundred digits
================================================================

A LeNet-5 (a convolutional network) and a small ViT of about the same number of
parameters are trained from scratch on the same examples of scikit-learn's bundled
handwritten digits (8x8 pixels, upsampled to 32x32), with the same optimiser and the
same number of steps, for a growing training set. Both are scored on the same 597
held-out digits.

The convolution builds in two assumptions about images: nearby pixels matter
together (locality) and a pattern means the same wherever it appears (translation
equivariance). The ViT assumes neither; it has to learn them from the data. With
few examples that costs it a lot; the gap shrinks as the data grows. The ViT paper
makes the same point at the scale of ImageNet (1.3 M images) against JFT-300M.
"""

# %%
# The data and the two models
# ---------------------------
import matplotlib.pyplot as plt
import torch

import refmodels
from refmodels.vision.digits import fit_and_score, load_digits, split

torch.manual_seed(0)
x, y = load_digits(size=32)  # (1797, 1, 32, 32), standardised
test_idx, pool_idx = split(len(x), n_test=597)
SIZES = (100, 300, 1000)
SEEDS = (0,)


def make(kind: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    if kind == "CNN (LeNet-5)":
        return refmodels.create_model("lenet5", act="relu", pool="max")
    # 32x32 in 8x8 patches: 16 tokens + [CLS], width 48, 3 blocks: about LeNet-5's parameter count
    return refmodels.create_model("vit_tiny", img_size=32, patch_size=8, in_chans=1, width=48, depth=3,
                                  heads=3, mlp_ratio=2.0)


for kind in ("CNN (LeNet-5)", "ViT"):
    print(f"{kind}: {sum(p.numel() for p in make(kind, 0).parameters()):,} parameters")

# %%
# Train both on 100, 300 and 1000 examples
# ----------------------------------------
# Same budget for both: 200 minibatches of 50, AdamW with a one-cycle schedule
# (peak learning rate 2e-3). Add seeds to ``SEEDS`` to see the spread: the plot
# shows the mean and each seed as a dot.
results = {kind: [] for kind in ("CNN (LeNet-5)", "ViT")}
for n in SIZES:
    for kind in results:
        accs = [fit_and_score(make(kind, s), x, y, pool_idx[:n], test_idx, steps=200, lr=2e-3, seed=s) for s in SEEDS]
        results[kind].append(accs)
        print(f"n={n:5d} {kind:14s} test accuracy " + " ".join(f"{a:.3f}" for a in accs))

# %%
# Accuracy against training-set size
# ----------------------------------
# Look at the gap between the curves: largest with 100 examples, smaller with 1000.
fig, ax = plt.subplots(figsize=(6, 3.8))
for (kind, accs), colour in zip(results.items(), ("#3182bd", "#e6550d")):
    means = [sum(a) / len(a) for a in accs]
    ax.plot(SIZES, means, "o-", color=colour, label=kind)
    for n, a in zip(SIZES, accs):
        ax.scatter([n] * len(a), a, color=colour, s=10, alpha=0.5)
ax.set_xscale("log")
ax.set_xticks(SIZES, [str(n) for n in SIZES])
ax.set_xlabel("training examples")
ax.set_ylabel(f"test accuracy ({len(test_idx)} digits)")
ax.set_title("Same data, same budget:\nthe CNN's built-in assumptions pay off early", fontsize=10)
ax.legend()
fig.tight_layout()
plt.show()
