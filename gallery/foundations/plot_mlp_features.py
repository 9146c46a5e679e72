"""
What an MLP learns on handwritten digits
========================================

We train the MLP of the walkthrough (64 pixels -> 128 ReLU units -> 10 classes) on
scikit-learn's 8x8 digits and look inside it. Each hidden unit computes
``relu(w . x + b)``, and its 64 weights ``w`` can be drawn as an 8x8 image: the pixel
pattern that excites the unit most. A second picture shows which hidden units one
digit switches on, and how the head turns them into ten class scores.
"""

# %%
# Train the model
# ---------------
# The same data split and recipe as the page: 20 epochs of mini-batch SGD with
# momentum on the softmax cross-entropy. The held-out accuracy is printed.
import matplotlib.pyplot as plt
import torch

import refmodels
from refmodels.foundations.mlp import fit_classifier, load_digits_split

torch.manual_seed(0)
x_train, y_train, x_test, y_test = load_digits_split()
model = refmodels.create_model("mlp_digits")
fit_classifier(model, x_train, y_train, epochs=20)
model.eval()
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
print(f"held-out accuracy: {accuracy:.3f} on {len(y_test)} digits")

# %%
# The first layer's weights as images
# -----------------------------------
# Each tile is one hidden unit's weight vector, reshaped from (64,) to (8, 8); red
# pixels push the unit on, blue pixels push it off. A few units look like pieces of
# strokes (a bar, a diagonal); most are mixtures of several, and none is a whole
# digit: the head combines them. Shown: the 32 units with the largest weights.
w = model.layers[0].weight.detach()  # (128, 64): one row per hidden unit
top = w.norm(dim=1).argsort(descending=True)[:32]
fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
for ax, unit in zip(axes.flat, top):
    tile = w[unit].view(8, 8)  # (64,) -> (8, 8), the pixel layout of the input
    lim = tile.abs().max()
    ax.imshow(tile, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(f"unit {unit.item()}", fontsize=7)
    ax.axis("off")
fig.suptitle("first-layer weights of the 32 strongest hidden units (8x8 each)")
fig.tight_layout()
plt.show()

# %%
# One digit through the network
# -----------------------------
# Left: a held-out digit. Middle: the 128 hidden activations it produces; ReLU sets
# every unit whose input is negative to exactly zero, and the title counts the units
# left active. Right: the ten logits of the head and the predicted class.
x = x_test[:1]  # (1, 64)
with torch.no_grad():
    (hidden,) = model.features(x)  # (1, 128)
    logits = model(x)  # (1, 10)
fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), gridspec_kw={"width_ratios": [1, 3, 1.6]})
axes[0].imshow(x.view(8, 8), cmap="gray_r")
axes[0].set_title(f"input, label {y_test[0].item()}")
axes[0].axis("off")
axes[1].bar(range(hidden.shape[1]), hidden[0], color="#3182bd")
axes[1].set_title(f"hidden layer (1, {hidden.shape[1]}): {(hidden[0] > 0).sum().item()} units active")
axes[1].set_xlabel("hidden unit")
axes[2].barh(range(10), logits[0], color=["#e6550d" if k == logits.argmax() else "#bdbdbd" for k in range(10)])
axes[2].set_yticks(range(10))
axes[2].invert_yaxis()
axes[2].set_title(f"logits (1, 10): predicts {logits.argmax().item()}")
fig.tight_layout()
plt.show()
