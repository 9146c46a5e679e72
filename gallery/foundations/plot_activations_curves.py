"""
Activation functions and their derivatives
==========================================

Nine pointwise activations of :mod:`refmodels.foundations.activations` drawn twice
(PReLU, a Leaky ReLU with a learned slope, is left out; Leaky ReLU is drawn with
slope 0.1 so its negative side shows, where the page uses 0.01):
the function f(x) and its derivative f'(x), the number backpropagation multiplies
the gradient by. The derivatives are the hand-written ``df`` methods of the
refmodels classes, the same ones their backward pass uses (the tests hold them
against torch's autograd). A tenth panel overlays four ReLU-like curves, without
derivatives. A further figure shows the two gated units, which take
two numbers instead of one.
"""

# %%
# The functions
# -------------
# Look at the ranges: step, sigmoid and tanh are bounded (they saturate), the
# ReLU family is unbounded above. Look near zero: GELU and SiLU dip slightly below
# zero before rising, ELU bends smoothly into -alpha.
import matplotlib.pyplot as plt
import torch

from refmodels.foundations.activations import ELU, GELU, GLU, LeakyReLU, ReLU, Sigmoid, SiLU, Step, SwiGLU, Tanh

acts = {
    "step": Step(),
    "sigmoid": Sigmoid(),
    "tanh": Tanh(),
    "ReLU": ReLU(),
    "Leaky ReLU (0.1)": LeakyReLU(0.1),
    "ELU": ELU(),
    "GELU": GELU(),
    "GELU (tanh approx.)": GELU("tanh"),
    "SiLU / Swish": SiLU(),
}
x = torch.linspace(-4, 4, 801)
fig, axes = plt.subplots(2, 5, figsize=(14, 5.4), sharex=True)
for ax, (name, act) in zip(axes.flat, acts.items()):
    ax.axhline(0, color="#cccccc", lw=0.8)
    ax.axvline(0, color="#cccccc", lw=0.8)
    ax.plot(x, act.f(x), color="#3182bd", lw=2, label="f(x)")
    ax.plot(x, act.df(x), color="#e6550d", lw=1.5, ls="--", label="f'(x)")
    ax.set_title(name, fontsize=10)
    ax.set_ylim(-1.6, 2.6)
# the last panel overlays the four smooth ReLU-like curves to compare their shapes
ax = axes.flat[-1]
for name in ["ReLU", "ELU", "GELU", "SiLU / Swish"]:
    ax.plot(x, acts[name].f(x), lw=1.5, label=name)
ax.set_title("ReLU-like, overlaid", fontsize=10)
ax.set_ylim(-1.6, 2.6)
ax.legend(fontsize=7)
axes.flat[0].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %%
# Where the gradient vanishes
# ---------------------------
# The derivative on a log scale over a wide range. Sigmoid's is at most 1/4 and
# decays like exp(-abs(x)): ten sigmoid derivatives multiply to at most 4^-10, about
# 1e-6 (the weight matrices between the layers multiply the gradient too, so a real
# network's first layer can get more or less than that). ReLU's derivative is exactly 1 for every positive input and
# exactly 0 for every negative one (the flat line off the bottom of the plot),
# which is both why ReLU networks train deep and why ReLU units can die.
x = torch.linspace(-12, 12, 1201)
fig, ax = plt.subplots(figsize=(7, 3.2))
for name in ["sigmoid", "tanh", "ReLU", "Leaky ReLU (0.1)", "GELU", "SiLU / Swish"]:
    ax.semilogy(x, acts[name].df(x).abs().clamp(min=1e-12), label=name)
ax.set_ylim(1e-6, 3)
ax.set_xlabel("x")
ax.set_ylabel("|f'(x)|")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()
plt.show()

# %%
# The gated units
# ---------------
# GLU and SwiGLU split their input in two halves a and b and multiply: GLU is
# a * sigmoid(b) (b decides how much of a passes), SwiGLU is silu(a) * b. Each
# panel is one output channel as a function of its pair (a, b). Look at the
# lower half of GLU's panel: for negative b the gate closes and the output fades
# to zero whatever a is. SwiGLU is a product of two unbounded terms, a saddle that can
# flip sign with either input.
a, b = torch.meshgrid(torch.linspace(-3, 3, 241), torch.linspace(-3, 3, 241), indexing="xy")
pairs = torch.stack([a, b], dim=-1)  # (241, 241, 2): last axis = the halves (a, b)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (name, unit) in zip(axes, {"GLU: a * sigmoid(b)": GLU(), "SwiGLU: silu(a) * b": SwiGLU()}.items()):
    out = unit(pairs)[..., 0]  # (241, 241, 2) -> (241, 241, 1) -> (241, 241)
    lim = out.abs().max()
    im = ax.imshow(out, origin="lower", extent=(-3, 3, -3, 3), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.contour(a, b, out, levels=[0], colors="k", linewidths=0.8)
    ax.set_xlabel("a (first half)")
    ax.set_ylabel("b (second half)")
    ax.set_title(name)
    fig.colorbar(im, ax=ax, shrink=0.85)
fig.tight_layout()
plt.show()
