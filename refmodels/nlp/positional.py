"""Position encodings: sinusoidal, learned, relative (a learned bias) and rotary (RoPE).

Attention treats its input as a set: permute the tokens and the outputs permute with
them. Each scheme here tells the model where a token sits.

Papers:
    * sinusoidal and learned: Vaswani et al., 2017, section 3.5, https://arxiv.org/abs/1706.03762
    * relative: Shaw et al., 2018, https://arxiv.org/abs/1803.02155 (their clipped
      offsets, with a learned scalar bias per head in place of their vectors; T5 also
      learns scalars per head but shares them among logarithmic buckets of offsets)
    * rotary: Su et al., 2021 (RoFormer), https://arxiv.org/abs/2104.09864

Checked against: ``transformers.models.llama.modeling_llama`` (``LlamaRotaryEmbedding``
and ``apply_rotary_pos_emb`` give the same rotated queries and keys), in
``tests/test_positional.py``.

Shapes: B batch, N tokens, D width, nh heads, hd head width.
    sinusoidal_table(N, D) (N, D); add to embeddings (B, N, D) -> (B, N, D)
    RelativePositionBias(N, M) -> (1, nh, N, M), added to the attention scores
    RotaryEmbedding(positions (B, N)) -> cos, sin (B, N, hd); apply_rotary((B, nh, N, hd)) -> same shape

Differences from the papers:
    * RoPE rotates the pairs (i, i + hd/2) ("rotate half", the layout of GPT-NeoX, Llama
      and transformers), not the neighbours (2i, 2i + 1) of the RoFormer paper. The two
      are the same rotation after a fixed permutation of the q and k features.
    * The relative bias uses one learned scalar per head and clipped offset, not Shaw
      et al.'s learned key and value vectors, and one entry per offset up to the clipping
      distance, not T5's logarithmic buckets.
"""

import torch
import torch.nn as nn
from jaxtyping import Float, Int
from torch import Tensor

__all__ = [
    "LearnedPositionalEmbedding",
    "RelativePositionBias",
    "RotaryEmbedding",
    "SinusoidalPositionalEncoding",
    "apply_rotary",
    "rotate_half",
    "sinusoidal_table",
]


def sinusoidal_table(n: int, dim: int, base: float = 10000.0) -> Float[Tensor, "N D"]:
    """PE(pos, 2i) = sin(pos / base^(2i/D)), PE(pos, 2i+1) = cos(pos / base^(2i/D)).

    >>> pe = sinusoidal_table(50, 16)
    >>> tuple(pe.shape), pe[0, :4].tolist()
    ((50, 16), [0.0, 1.0, 0.0, 1.0])
    """
    if dim % 2:
        raise ValueError(f"sinusoidal encodings need an even width; got {dim}")
    pos = torch.arange(n, dtype=torch.float32)[:, None]  # (N, 1)
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # (D/2,): 1 / base^(2i/D)
    angles = pos * inv_freq  # (N, 1) * (D/2,) -> (N, D/2)
    table = torch.zeros(n, dim)
    table[:, 0::2] = angles.sin()
    table[:, 1::2] = angles.cos()
    return table


def _check_tokens(x: Tensor, dim: int, name: str) -> None:
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{name} expects embeddings of shape (B, N, {dim}); got {tuple(x.shape)}")


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table (no parameters, any length)."""

    def __init__(self, dim: int, base: float = 10000.0) -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f"sinusoidal encodings need an even width; got {dim}")
        self.dim, self.base = dim, base

    def forward(self, x: Tensor) -> Float[Tensor, "B N D"]:
        _check_tokens(x, self.dim, "SinusoidalPositionalEncoding")
        return x + sinusoidal_table(x.shape[1], self.dim, self.base).to(x)  # (B, N, D) + (N, D)


class LearnedPositionalEmbedding(nn.Module):
    """Adds one learned vector per position, from a table of ``max_len`` rows (BERT, GPT-2, ViT)."""

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.max_len, self.dim = max_len, dim
        self.table = nn.Embedding(max_len, dim)
        nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, x: Tensor) -> Float[Tensor, "B N D"]:
        _check_tokens(x, self.dim, "LearnedPositionalEmbedding")
        n = x.shape[1]
        if n > self.max_len:
            raise ValueError(f"sequence of {n} tokens is longer than the learned position table "
                             f"(max_len={self.max_len}); expected N <= {self.max_len}")
        return x + self.table.weight[:n]  # (B, N, D) + (N, D)


class RelativePositionBias(nn.Module):
    """A learned scalar per head and offset j - i, clipped to [-max_distance, max_distance].

    The bias depends on the offset only, so the same pattern slides along the diagonal.
    """

    def __init__(self, heads: int, max_distance: int) -> None:
        super().__init__()
        self.heads, self.max_distance = heads, max_distance
        self.table = nn.Embedding(2 * max_distance + 1, heads)

    def offsets(self, n: int, m: int) -> Int[Tensor, "N M"]:
        """Clipped offsets j - i, shifted to table rows 0 .. 2 * max_distance."""
        rel = torch.arange(m)[None, :] - torch.arange(n)[:, None]  # (N, M): key position - query position
        return rel.clamp(-self.max_distance, self.max_distance) + self.max_distance

    def forward(self, n: int, m: int) -> Float[Tensor, "1 nh N M"]:
        bias = self.table(self.offsets(n, m).to(self.table.weight.device))  # (N, M) -> (N, M, nh)
        return bias.permute(2, 0, 1)[None]  # (N, M, nh) -> (1, nh, N, M)


def rotate_half(x: Float[Tensor, "*b hd"]) -> Float[Tensor, "*b hd"]:
    """(x1, x2) -> (-x2, x1) on the two halves: a 90-degree turn of every pair (x1_i, x2_i)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: Float[Tensor, "*b hd"], cos: Float[Tensor, "*c hd"], sin: Float[Tensor, "*c hd"]) -> Float[Tensor, "... hd"]:
    """Rotate each pair by its angle: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)."""
    return x * cos + rotate_half(x) * sin


class RotaryEmbedding(nn.Module):
    """cos and sin of the angles pos * theta_i, theta_i = base^(-2i/hd), for queries and keys.

    Rotating q at position m and k at position n makes q . k depend on m - n only.

    >>> rope = RotaryEmbedding(head_dim=8)
    >>> cos, sin = rope(torch.arange(6)[None])      # positions (B, N)
    >>> tuple(cos.shape), tuple(apply_rotary(torch.randn(1, 2, 6, 8), cos[:, None], sin[:, None]).shape)
    ((1, 6, 8), (1, 2, 6, 8))
    """

    def __init__(self, head_dim: int, base: float = 10000.0) -> None:
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary embeddings need an even head width; got {head_dim}")
        self.head_dim, self.base = head_dim, base
        inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)  # (hd/2,)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, positions: Int[Tensor, "*b N"]) -> tuple[Float[Tensor, "*b N hd"], Float[Tensor, "*b N hd"]]:
        angles = positions[..., None].float() * self.inv_freq  # (.., N, 1) * (hd/2,) -> (.., N, hd/2)
        angles = torch.cat((angles, angles), dim=-1)  # the same angle for x1_i and x2_i: (.., N, hd)
        return angles.cos(), angles.sin()
