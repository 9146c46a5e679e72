"""
Self-attention on a sentence: why the scores are divided by sqrt(d)
===================================================================

Multi-head attention drawn from :class:`refmodels.nlp.attention.MultiHeadAttention`:
first the shape of every tensor on the way through, measured by
:func:`refmodels.trace`, then the attention weights of one sentence from Python's own
documentation, computed with and without the :math:`1/\\sqrt{d}` of equation (1) of
the paper, for a narrow and a wide model. Without the scaling the wide model's
softmax saturates: almost every word puts nearly all of its weight on a single word.
"""

# %%
# The shape flow of multi-head attention
# --------------------------------------
# A random input as long as the sentence (width and heads set below), drawn along the
# query path (keys and values go through the same projection and split). Look at where
# the width splits
# into heads and where the (N, N) weight matrix appears: that matrix is the only place
# where the words meet.
import math

import matplotlib.pyplot as plt
import torch

import refmodels
from refmodels.nlp.attention import MultiHeadAttention, scaled_dot_product_attention
from refmodels.nlp.text import sentence, words

torch.manual_seed(0)
tokens = words(sentence("assert"))
n, dim, heads = len(tokens), 64, 4
mha = MultiHeadAttention(dim, heads).eval()
x = torch.randn(1, n, dim)
tr = refmodels.trace(mha, x)
q = mha.split_heads(mha.q_proj(x))
_, weights = mha(x)
steps = [
    ("input x", tuple(x.shape)),
    ("queries\n$Q = x W^Q$", tr["q_proj"].output_shapes[0]),
    ("split into\nheads", tuple(q.shape)),
    ("weights\nsoftmax of\n$QK^\\top/\\sqrt{d_k}$", tuple(weights.shape)),
    ("weights @ V,\nmerge heads", tr["out_proj"].input_shapes[0]),
    ("output\n$x W^O$", tr["out_proj"].output_shapes[0]),
]
# Box width, gap and font sizes chosen so the longest label fits inside its box.
width, step = 2.6, 2.9
fig, ax = plt.subplots(figsize=(9, 2.3))
for i, (label, shape) in enumerate(steps):
    x0 = i * step
    ax.add_patch(plt.Rectangle((x0, 0), width, 1, fc="#fdd0a2" if label.startswith("weights\n") else "#9ecae1", ec="black"))
    ax.text(x0 + width / 2, 0.62, label, ha="center", va="center", fontsize=10)
    ax.text(x0 + width / 2, 0.15, str(shape), ha="center", va="center", fontsize=10)
    if i:
        ax.annotate("", (x0, 0.5), (x0 - (step - width), 0.5), arrowprops=dict(arrowstyle="-|>"))
ax.set_xlim(-0.1, len(steps) * step)
ax.set_ylim(-0.1, 1.1)
ax.axis("off")
ax.set_title(f"multi-head attention, query path (K and V alike), D={dim}, nh={heads}: "
             f"{tr.total_params:,} parameters", fontsize=11)
plt.show()

# %%
# Weights with and without the scaling
# ------------------------------------
# Each word gets a random vector of width d, and random projections W^Q, W^K give
# queries and keys with unit-variance entries (the state of a fresh layer). A row
# shows where one word looks. In the wide model the unscaled scores q . k have a
# standard deviation of about sqrt(d) (printed below), and softmax turns that into an
# almost one-hot row; dividing by sqrt(d) brings the spread back to about 1 and the
# rows stay soft. Each panel's mean largest weight is printed and in its title.
widths = (16, 512)
print(f"sqrt(d) for d = {widths}: {', '.join(f'{math.sqrt(d):.0f}' for d in widths)}")
fig, axes = plt.subplots(2, 2, figsize=(9, 8.5))
for row, d in enumerate(widths):
    torch.manual_seed(1)
    e = torch.randn(n, d)
    q = e @ torch.randn(d, d) / math.sqrt(d)  # (N, d), entries of variance ~1
    k = e @ torch.randn(d, d) / math.sqrt(d)
    for col, scaled in enumerate((False, True)):
        if scaled:
            w = scaled_dot_product_attention(q, k, e)[1]  # softmax(q k^T / sqrt(d))
        else:
            w = (q @ k.T).softmax(-1)  # the same without the scaling
        ax = axes[row, col]
        ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(n), tokens, rotation=90, fontsize=7)
        ax.set_yticks(range(n), tokens, fontsize=7)
        top = w.max(-1).values  # the largest weight of each row
        kind = "scaled by 1/sqrt(d)" if scaled else "unscaled"
        print(f"d={d:3d} {kind:>19s}: mean largest weight {top.mean():.2f}, "
              f"rows above 0.95: {(top > 0.95).sum().item()} of {n}")
        ax.set_title(f"d={d}, {kind}: mean max weight {top.mean():.2f}", fontsize=9)
fig.tight_layout()
plt.show()
