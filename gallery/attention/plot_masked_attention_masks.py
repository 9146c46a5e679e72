"""
Padding and causal masks, and what they do to the weights
=========================================================

Two sentences from Python's documentation of different lengths go into one batch, so
the shorter one is padded. :func:`refmodels.nlp.attention.padding_mask` hides the
padding from every query; :func:`refmodels.nlp.attention.causal_mask` hides the
future from every position; the decoder of a Transformer uses both, combined with
``&``. The second figure shows the attention weights of a fresh
:class:`~refmodels.nlp.attention.MultiHeadAttention` under each mask: blocked cells
are exactly zero.
"""

# %%
# The three masks
# ---------------
# White cells may attend (True), black cells are blocked. Look at the short sentence:
# its padding columns are black for every row, whatever the row.
import matplotlib.pyplot as plt
import torch

from refmodels.nlp.attention import MultiHeadAttention, causal_mask, padding_mask
from refmodels.nlp.text import sentence, words

texts = [words(sentence("assert")), words(sentence("pass"))]
vocab = {w: i + 1 for i, w in enumerate(sorted({w for t in texts for w in t}))}  # 0 is padding
n = max(len(t) for t in texts)
ids = torch.tensor([[vocab[w] for w in t] + [0] * (n - len(t)) for t in texts])  # (B, N)
pad = padding_mask(ids, pad_id=0)  # (B, 1, 1, N)
causal = causal_mask(n)  # (N, N)
both = pad & causal  # (B, 1, N, N)
print("ids", tuple(ids.shape), "padding", tuple(pad.shape))
print("causal", tuple(causal.shape), "both", tuple(both.shape))

short = 1 if len(texts[1]) < len(texts[0]) else 0
labels = texts[short] + ["<pad>"] * (n - len(texts[short]))
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, (title, m) in zip(axes, [("padding", pad[short, 0].expand(n, n)), ("causal", causal), ("padding & causal", both[short, 0])]):
    ax.imshow(m, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=90, fontsize=9)
    ax.set_yticks(range(n), labels, fontsize=9)
    ax.set_title(f"{title} mask {tuple(m.shape)}", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# The weights under each mask
# ---------------------------
# One head of a fresh attention layer, on random embeddings of the words. Each row
# still sums to one, but only over the cells the mask allows: the causal rows get
# more concentrated towards the top of the matrix, where fewer keys are visible.
torch.manual_seed(0)
mha = MultiHeadAttention(64, 4).eval()
x = torch.nn.Embedding(len(vocab) + 1, 64)(ids).detach()
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
for ax, (title, m) in zip(axes, [("no mask", None), ("padding", pad), ("padding & causal", both)]):
    with torch.no_grad():
        _, w = mha(x, mask=m)
    im = ax.imshow(w[short, 0], cmap="viridis", vmin=0, vmax=1)  # one colour scale for all three
    ax.set_xticks(range(n), labels, rotation=90, fontsize=9)
    ax.set_yticks(range(n), labels, fontsize=9)
    ax.set_title(f"head 0, {title}", fontsize=10)
fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
plt.show()
