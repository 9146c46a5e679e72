"""
Sinusoidal, learned and relative position encodings as pictures
===============================================================

The sinusoidal table of the Transformer paper from
:func:`refmodels.nlp.positional.sinusoidal_table`: each column is a wave, fast on
the left, slow on the right. The dot product between two positions' encodings then
depends only on how far apart they are. A learned table at initialisation has no such
structure; a relative bias (:class:`~refmodels.nlp.positional.RelativePositionBias`)
has it by construction.
"""

# %%
# The table and the similarity between positions
# -----------------------------------------------
# Left: 64 positions by 128 features. Right: PE(i) . PE(j) for every pair; look at the
# bands parallel to the diagonal: the similarity is a function of i - j.
import matplotlib.pyplot as plt
import torch

from refmodels.nlp.positional import LearnedPositionalEmbedding, RelativePositionBias, sinusoidal_table

n, d = 64, 128
pe = sinusoidal_table(n, d)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
im = axes[0].imshow(pe, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
axes[0].set_xlabel("feature (sin at even, cos at odd indices)")
axes[0].set_ylabel("position")
axes[0].set_title(f"sinusoidal_table({n}, {d})")
fig.colorbar(im, ax=axes[0])
im = axes[1].imshow(pe @ pe.T, cmap="viridis")
axes[1].set_title("PE(i) . PE(j)")
axes[1].set_xlabel("position j")
axes[1].set_ylabel("position i")
fig.colorbar(im, ax=axes[1])
fig.tight_layout()
plt.show()

# %%
# Three schemes side by side
# --------------------------
# The similarity of a learned table at initialisation is noise: the model must
# discover the order of positions from data, one position at a time, and a position
# it never saw in training has a vector that was never trained. The relative bias
# (one head shown) is constant along each diagonal and clipped beyond max_distance.
torch.manual_seed(0)
learned = LearnedPositionalEmbedding(n, d).table.weight.detach()
relative = RelativePositionBias(heads=4, max_distance=8)
with torch.no_grad():
    bias = relative(n, n)[0, 0]
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, (title, m) in zip(axes, [("sinusoidal: PE(i) . PE(j)", pe @ pe.T), ("learned (initial): P(i) . P(j)", learned @ learned.T),
                                 ("relative bias b[j - i], head 0", bias)]):
    ax.imshow(m, cmap="viridis")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("key position j")
    ax.set_ylabel("query position i")
fig.tight_layout()
plt.show()
