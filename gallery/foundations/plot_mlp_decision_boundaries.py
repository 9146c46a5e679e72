"""
Decision boundaries: linear model vs MLP
========================================

A classifier splits its input space into regions, one per class. We squeeze the
64-pixel digits to two numbers (their first two principal components) so the
regions can be drawn, then train three models from refmodels on those two numbers:
no hidden layer (a linear model), one hidden layer of 64 ReLU units, and two. The
linear model can only cut the plane with straight lines; the hidden layers bend them.
"""

# %%
# Project the digits to 2-D
# -------------------------
# PCA keeps the two directions in which the 64 pixels vary most. Ten classes overlap
# a lot in two dimensions, so no model reaches the accuracy of the full 64 pixels;
# what matters here is the shape of the regions.
import matplotlib.pyplot as plt
import torch
from sklearn.decomposition import PCA

import refmodels
from refmodels.foundations.mlp import fit_classifier, load_digits_split

x_train, y_train, x_test, y_test = load_digits_split()
pca = PCA(n_components=2).fit(x_train.numpy())
z_train = torch.as_tensor(pca.transform(x_train.numpy()), dtype=torch.float32)  # (B, 64) -> (B, 2)
z_test = torch.as_tensor(pca.transform(x_test.numpy()), dtype=torch.float32)
scale = z_train.std(0)
z_train, z_test = z_train / scale, z_test / scale

# %%
# Train three models on the 2-D points
# ------------------------------------
# Same recipe for all three; only the hidden layers differ.
models = {}
shapes = {"linear (no hidden layer)": (), "1 hidden layer of 64": (64,), "2 hidden layers of 64": (64, 64)}
for label, hidden in shapes.items():
    torch.manual_seed(0)
    model = refmodels.create_model("mlp_digits", in_features=2, hidden=hidden)
    fit_classifier(model, z_train, y_train, epochs=60, lr=0.05)
    with torch.no_grad():
        accuracy = (model(z_test).argmax(1) == y_test).float().mean().item()
    models[label] = (model.eval(), accuracy)
    print(f"{label:26s} held-out accuracy {accuracy:.3f}")

# %%
# Draw the regions
# ----------------
# Each colour is the class the model predicts at that point of the plane; dots are
# held-out digits coloured by their true label. Look at the borders: straight for
# the linear model (each region is convex), curved and able to wrap around a cluster
# with hidden layers.
lo, hi = z_train.min(0).values - 0.5, z_train.max(0).values + 0.5
gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], 300), torch.linspace(lo[1], hi[1], 300), indexing="xy")
grid = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (300*300, 2)
fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), sharex=True, sharey=True)
for ax, (label, (model, accuracy)) in zip(axes, models.items()):
    with torch.no_grad():
        regions = model(grid).argmax(1).view(300, 300)
    ax.imshow(regions, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="tab10", vmin=0, vmax=9, alpha=0.35,
              interpolation="nearest", aspect="auto")
    ax.scatter(z_test[:, 0], z_test[:, 1], c=y_test, cmap="tab10", vmin=0, vmax=9, s=8, edgecolors="k", linewidths=0.2)
    ax.set_title(f"{label}\nheld-out accuracy {accuracy:.2f}")
    ax.set_xlabel("principal component 1")
axes[0].set_ylabel("principal component 2")
fig.tight_layout()
plt.show()
