"""
Optimizer paths over loss surfaces
==================================

Six optimizers from :mod:`refmodels.foundations.optimizers` (gradient descent,
momentum, Nesterov, Adagrad, RMSProp, Adam) released from the same point on three
two-dimensional loss surfaces: a narrow ravine, a saddle, and Rosenbrock's curved
valley. Each path is the sequence of parameters the optimizer visits, drawn over the
surface's contour lines; a 3-D view of the saddle closes the page. The learning rates
are set by hand, one per optimizer and surface; change them to see how each path
depends on its learning rate.
"""

# %%
# The three surfaces and the runs
# -------------------------------
# ``optimize_path`` runs an optimizer on a 2-parameter "model" and returns every
# point it visits, shape (steps + 1, 2).
import matplotlib.pyplot as plt
import torch

from refmodels.foundations.optimizers import SURFACES, SGD, Adagrad, Adam, RMSprop, optimize_path

RUNS = {  # surface -> (start, steps, {label: (optimizer, hyperparameters)})
    "ravine": ((-9.0, 1.0), 100, {
        "gradient descent": (SGD, dict(lr=0.18)), "momentum": (SGD, dict(lr=0.02, momentum=0.9)),
        "Nesterov": (SGD, dict(lr=0.02, momentum=0.9, nesterov=True)), "Adagrad": (Adagrad, dict(lr=1.0)),
        "RMSProp": (RMSprop, dict(lr=0.1)), "Adam": (Adam, dict(lr=0.3))}),
    "saddle": ((-2.0, 1e-3), 60, {
        "gradient descent": (SGD, dict(lr=0.1)), "momentum": (SGD, dict(lr=0.1, momentum=0.9)),
        "Nesterov": (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)), "Adagrad": (Adagrad, dict(lr=0.5)),
        "RMSProp": (RMSprop, dict(lr=0.05)), "Adam": (Adam, dict(lr=0.1))}),
    "rosenbrock": ((-1.5, 2.0), 500, {
        "gradient descent": (SGD, dict(lr=1e-3)), "momentum": (SGD, dict(lr=1e-3, momentum=0.9)),
        "Nesterov": (SGD, dict(lr=1e-3, momentum=0.9, nesterov=True)), "Adagrad": (Adagrad, dict(lr=0.5)),
        "RMSProp": (RMSprop, dict(lr=0.01)), "Adam": (Adam, dict(lr=0.1))}),
}
LIMITS = {"ravine": ((-10, 2), (-1.5, 1.5)), "saddle": ((-2.5, 2.5), (-1.6, 1.6)), "rosenbrock": ((-2, 2), (-1, 3))}
COLOURS = dict(zip(RUNS["ravine"][2], ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#333333"]))

paths = {}
for surface, (start, steps, optimizers) in RUNS.items():
    for label, (optimizer, hp) in optimizers.items():
        paths[surface, label] = optimize_path(SURFACES[surface], start, optimizer, steps, **hp)
        end = paths[surface, label][-1]
        print(f"{surface:10s} {label:17s} ends at ({end[0]:+.3f}, {end[1]:+.3f}), loss {SURFACES[surface](end):.2e}")


def contours(ax, surface):
    (x0, x1), (y0, y1) = LIMITS[surface]
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, 300), torch.linspace(y0, y1, 300), indexing="xy")
    f = SURFACES[surface](torch.stack([gx, gy], dim=-1))  # (300, 300, 2) -> (300, 300)
    levels = torch.quantile(f.flatten(), torch.linspace(0.0, 0.95, 25)).unique()
    ax.contour(gx, gy, f, levels=levels, colors="#bbbbbb", linewidths=0.7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


# %%
# Zig-zag and momentum in the ravine
# ----------------------------------
# The ravine is 100 times steeper across than along. Gradient descent needs a
# learning rate small enough for the steep direction, so it flips from wall to
# wall at every step (the red zig-zag) while crawling along the floor. Momentum's
# along-components add up, so it gets further along the floor in the same 100
# steps; across, its velocity makes it swing slowly from wall to wall, and it ends
# further off the floor than gradient descent (the printed end points above).
# Nesterov follows momentum along the floor but damps the swings. None reaches the
# minimum (the star).
fig, ax = plt.subplots(figsize=(9, 3.6))
contours(ax, "ravine")
for label in ["gradient descent", "momentum", "Nesterov"]:
    p = paths["ravine", label]
    ax.plot(p[:, 0], p[:, 1], ".-", ms=3, lw=1, color=COLOURS[label], label=label)
ax.plot(0, 0, "k*", ms=12)
ax.set_title("ravine f = 0.05 x^2 + 5 y^2, 100 steps from (-9, 1)")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# All six optimizers on the three surfaces
# ----------------------------------------
# Ravine: the adaptive methods (Adagrad, RMSProp, Adam) divide each coordinate's
# step by its own gradient scale, so the steep and the flat directions move at the
# same pace. Adagrad's purple path lies mostly under RMSProp's orange one. Saddle: starting almost exactly on the ridge, the gradient across is
# tiny; gradient descent lingers near the saddle point, momentum and the adaptive
# methods leave it sooner. Rosenbrock: the valley floor is easy to reach and hard to
# follow; plain gradient descent barely moves along it in 500 steps.
fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
for ax, surface in zip(axes, RUNS):
    contours(ax, surface)
    for label in RUNS[surface][2]:
        p = paths[surface, label]
        ax.plot(p[:, 0], p[:, 1], "-", lw=1.3, color=COLOURS[label], label=label)
    ax.plot(*RUNS[surface][0], "ko", ms=5)
    ax.set_title(f"{surface}: {RUNS[surface][1]} steps")
axes[0].legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The saddle in 3-D
# -----------------
# The same saddle as a surface: down along y, up along x, with the two minima in the
# valleys on either side. The paths of gradient descent and Adam are lifted onto
# the surface; gradient descent first slides into the saddle point along x before
# it turns downhill.
gx, gy = torch.meshgrid(torch.linspace(-2.5, 2.5, 80), torch.linspace(-1.6, 1.6, 80), indexing="xy")
f = SURFACES["saddle"](torch.stack([gx, gy], dim=-1))
fig = plt.figure(figsize=(7, 5))
ax = fig.add_subplot(projection="3d")
ax.plot_surface(gx, gy, f, cmap="viridis", alpha=0.6, linewidth=0)
for label in ["gradient descent", "Adam"]:
    p = paths["saddle", label]
    ax.plot(p[:, 0], p[:, 1], SURFACES["saddle"](p) + 0.02, "-", lw=2, color=COLOURS[label], label=label)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_zlabel("loss")
ax.view_init(elev=35, azim=-60)
ax.legend()
fig.tight_layout()
plt.show()
