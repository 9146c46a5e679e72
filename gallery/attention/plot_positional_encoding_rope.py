"""
Rotary position embeddings (RoPE): rotations you can see
========================================================

:class:`refmodels.nlp.positional.RotaryEmbedding` turns each pair of query (or key)
features by an angle proportional to the position, a different speed for each pair.
The first figure follows one pair through 16 positions for a fast and a slow
frequency. The second shows why it works: the score between a rotated query and a
rotated key depends only on their offset, so it is the same along every diagonal.
"""

# %%
# One feature pair, rotated position by position
# ----------------------------------------------
# The vector keeps its length; only its angle changes. Pair 0 turns by one radian per
# position, pair 3 by about 0.03 radian (the slowest pair, 7, by 0.0003: too little
# to see in 16 positions).
import matplotlib.pyplot as plt
import torch

from refmodels.nlp.positional import RotaryEmbedding, apply_rotary

hd = 16
rope = RotaryEmbedding(hd)
positions = torch.arange(16)
cos, sin = rope(positions)  # (N, hd) each
torch.manual_seed(0)
q = torch.randn(hd)
rotated = apply_rotary(q.expand(16, hd), cos, sin)  # (N, hd)
fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
for ax, pair in zip(axes, (0, 3)):
    x, y = rotated[:, pair], rotated[:, pair + hd // 2]  # rotate-half layout: pair i is (i, i + hd/2)
    ax.scatter(x, y, c=positions, cmap="viridis")
    for p in (0, 1, 2, 15):
        ax.annotate(f"pos {p}", (x[p], y[p]), fontsize=8)
    r = float(torch.hypot(x, y).max()) * 1.15  # the same limits on both axes: the circle stays a circle
    ax.set_xlim(-r, r)
    ax.set_ylim(-r, r)
    ax.set_aspect("equal")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(f"pair {pair}: {rope.inv_freq[pair]:.4f} rad per position")
fig.tight_layout()
plt.show()

# %%
# Scores depend on the offset only
# --------------------------------
# Put the same query at every position m and the same key at every position n: the
# score q_m . k_n is constant along each diagonal m - n. Without rotation (right)
# every cell would be the same number: plain dot products see no position at all.
k = torch.randn(hd)
rq = apply_rotary(q.expand(16, hd), cos, sin)
rk = apply_rotary(k.expand(16, hd), cos, sin)
with_rope, plain = rq @ rk.T, q.expand(16, hd) @ k.expand(16, hd).T
lim = float(max(with_rope.abs().max(), plain.abs().max()))  # one colour scale for both panels
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, scores, title in ((axes[0], with_rope, "RoPE: q_m . k_n"), (axes[1], plain, "no position: q . k")):
    im = ax.imshow(scores, cmap="RdBu", vmin=-lim, vmax=lim)
    ax.set_title(title)
    ax.set_xlabel("key position n")
    ax.set_ylabel("query position m")
    ax.set_xticks(range(0, 16, 3))
    ax.set_yticks(range(0, 16, 3))
fig.colorbar(im, ax=axes, shrink=0.9)
plt.show()
