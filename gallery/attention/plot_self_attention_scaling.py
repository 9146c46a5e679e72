"""
Self-attention on a sentence: why the scores are divided by sqrt(d)
===================================================================

Multi-head attention drawn from :class:`refmodels.nlp.attention.MultiHeadAttention`:
first the shape of every tensor on the way through, measured by
:func:`refmodels.trace`, then the attention weights of one sentence from Python's own
documentation, computed with and without the :math:`1/\\sqrt{d}` of equation (1) of
the paper, for a narrow and a wide model. Without the scaling the wide model's
softmax saturates: every word puts nearly all of its weight on a single word.
"""

# %%
# The shape flow of multi-head attention
# --------------------------------------
# One sentence, width 64, four heads of 16, drawn along the query path (keys and
# values go through the same projection and split). Look at where the width splits
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
    ("queries\nQ = x W^Q", tr["q_proj"].output_shapes[0]),
    ("split into\nheads", tuple(q.shape)),
    ("weights\nsoftmax of\nQK^T / sqrt(hd)", tuple(weights.shape)),
    ("weights @ V,\nmerge heads", tr["out_proj"].input_shapes[0]),
    ("output\nx W^O", tr["out_proj"].output_shapes[0]),
]
# Box width, gap and font sizes chosen so the longest label fits inside its box.
width, step = 2.5, 2.9
fig, ax = plt.subplots(figsize=(12, 2.8))
for i, (label, shape) in enumerate(steps):
    x0 = i * step
    ax.add_patch(plt.Rectangle((x0, 0), width, 1, fc="#fdd0a2" if label.startswith("weights\n") else "#9ecae1", ec="black"))
    ax.text(x0 + width / 2, 0.6, label, ha="center", va="center", fontsize=8, weight="bold")
    ax.text(x0 + width / 2, 0.2, str(shape), ha="center", va="center", fontsize=8)
    if i:
        ax.annotate("", (x0, 0.5), (x0 - (step - width), 0.5), arrowprops=dict(arrowstyle="-|>"))
ax.set_xlim(-0.1, len(steps) * step)
ax.set_ylim(-0.1, 1.1)
ax.axis("off")
ax.set_title(f"multi-head attention along the query path (K and V are projected and split the same way), "
             f"D={dim}, nh={heads}: {tr.total_params:,} parameters", fontsize=9)
plt.show()

# %%
# Weights with and without the scaling
# ------------------------------------
# Each word gets a random vector of width d, and random projections W^Q, W^K give
# queries and keys with unit-variance entries (the state of a fresh layer). A row
# shows where one word looks. At d = 512 the unscaled scores q . k have a standard
# deviation of about sqrt(512) = 23, and softmax turns that into a one-hot row;
# dividing by sqrt(d) brings the spread back to about 1 and the rows stay soft.
fig, axes = plt.subplots(2, 2, figsize=(9, 8.5))
for row, d in enumerate((16, 512)):
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
        title = f"d={d}, {'scaled by 1/sqrt(d)' if scaled else 'unscaled'}: mean max weight {w.max(-1).values.mean():.2f}"
        ax.set_title(title, fontsize=9)
fig.tight_layout()
plt.show()
