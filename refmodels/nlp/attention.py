"""Scaled dot-product attention and multi-head attention (Vaswani et al., 2017, section 3.2).

Paper: https://arxiv.org/abs/1706.03762 ("Attention Is All You Need"), equation (1) and
section 3.2.2.
Checked against: ``torch.nn.MultiheadAttention`` (outputs and per-head attention weights,
with and without padding and causal masks, weights copied by
``refmodels.convert.torch_nn.mha_from_torch``) and ``torch.nn.functional.scaled_dot_product_attention``
(the fused path, ``fused=True``), in ``tests/test_attention.py``.

Shapes (batch-first, one glossary for the project)::

    B batch, N query tokens, M key/value tokens (M = N in self-attention),
    D width, nh heads, hd = D / nh head width.
    query (B, N, D), key and value (B, M, D) -> split heads (B, nh, N, hd), (B, nh, M, hd)
    -> scores (B, nh, N, M) -> weights (B, nh, N, M) -> per head (B, nh, N, hd)
    -> merged (B, N, D) -> output projection (B, N, D)

Masks: a boolean mask is True where a query *may* attend to a key, the convention of
``F.scaled_dot_product_attention``. (``torch.nn.MultiheadAttention`` uses the opposite:
True there means "blocked"; the converter tests flip it.) A mask broadcasts to
(B, nh, N, M): ``causal_mask(N)`` is (N, N), ``padding_mask(tokens, pad_id)`` is
(B, 1, 1, M), and two masks combine with ``&``. A floating mask is added to the scores
(a bias, as relative position schemes use).

Differences from the paper:
    * The projections have biases, as in torch and most implementations; the paper's
      equations write only the matrices W^Q, W^K, W^V, W^O.
    * ``dropout`` drops attention weights after the softmax, which the paper does not
      do. The authors' tensor2tensor code has it (``attention_dropout``, the placement
      torch also uses): 0 in ``transformer_base_v1``, the paper's setup, and 0.1 from
      ``transformer_base_v2`` on. The paper's residual dropout lives in the layers of
      ``refmodels.nlp.transformer``.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor

__all__ = [
    "MultiHeadAttention",
    "causal_mask",
    "check_mask",
    "padding_mask",
    "scaled_dot_product_attention",
]


def causal_mask(n: int, device: torch.device | str | None = None) -> Bool[Tensor, "N N"]:
    """Lower-triangular (N, N) mask: position i may attend to positions 0..i only.

    >>> causal_mask(3).int().tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def padding_mask(tokens: Int[Tensor, "B M"], pad_id: int) -> Bool[Tensor, "B 1 1 M"]:
    """(B, 1, 1, M) mask: every query may attend to every key that is not padding.

    >>> padding_mask(torch.tensor([[5, 7, 0]]), pad_id=0).int().tolist()
    [[[[1, 1, 0]]]]
    """
    return (tokens != pad_id)[:, None, None, :]  # (B, M) -> (B, 1, 1, M)


def check_mask(mask: Tensor, batch: int, heads: int, n: int, m: int) -> None:
    """A mask must be boolean or floating and broadcast to (B, nh, N, M)."""
    expected = (batch, heads, n, m)
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise ValueError(f"attention mask must be boolean (True = may attend) or floating (added); got {mask.dtype}")
    shape = tuple(mask.shape)
    fits = len(shape) <= 4 and all(s in (1, e) for s, e in zip(reversed(shape), reversed(expected)))
    if not fits:
        raise ValueError(f"attention mask must broadcast to (B, nh, N, M) = {expected}; got shape {shape}")


def scaled_dot_product_attention(
    q: Float[Tensor, "*batch N hd"],
    k: Float[Tensor, "*batch M hd"],
    v: Float[Tensor, "*batch M hv"],
    mask: Tensor | None = None,
    dropout: float = 0.0,
    training: bool = False,
) -> tuple[Float[Tensor, "*batch N hv"], Float[Tensor, "*batch N M"]]:
    """Equation (1) of the paper, written out: softmax(Q K^T / sqrt(d_k)) V.

    Returns the output and the attention weights (each row sums to 1 over the keys).

    >>> q = k = v = torch.randn(2, 4, 5, 8)          # (B, nh, N, hd)
    >>> out, w = scaled_dot_product_attention(q, k, v, mask=causal_mask(5))
    >>> tuple(out.shape), tuple(w.shape)
    ((2, 4, 5, 8), (2, 4, 5, 5))
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (.., N, hd) @ (.., hd, M) -> (.., N, M)
    if mask is not None:
        # a blocked key gets -inf, so exp(-inf) = 0 and it receives no weight
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    weights = scores.softmax(dim=-1)
    if dropout > 0.0 and training:
        weights = F.dropout(weights, p=dropout)
    return weights @ v, weights  # (.., N, M) @ (.., M, hv) -> (.., N, hv)


class MultiHeadAttention(nn.Module):
    """nh attention heads side by side, each in its own hd-wide subspace (section 3.2.2).

    MultiHead(Q, K, V) = Concat(head_1, ..., head_nh) W^O, head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).
    Self-attention passes only ``query``; cross-attention passes ``key`` (= ``value``) too.
    ``forward`` returns ``(output, weights)``, the weights per head (B, nh, N, M), or None
    on the fused path, which never materialises them.

    >>> mha = MultiHeadAttention(dim=32, heads=4)
    >>> out, w = mha(torch.randn(2, 5, 32), mask=causal_mask(5))
    >>> tuple(out.shape), tuple(w.shape)
    ((2, 5, 32), (2, 4, 5, 5))
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0, bias: bool = True, fused: bool = False) -> None:
        super().__init__()
        if dim <= 0 or heads <= 0:
            raise ValueError(f"width and heads must be positive integers; got {dim} and {heads}")
        if dim % heads:
            raise ValueError(f"width must be divisible by heads: got {dim} and {heads}")
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.dropout, self.fused = dropout, fused
        self.q_proj = nn.Linear(dim, dim, bias=bias)  # W^Q for all heads at once
        self.k_proj = nn.Linear(dim, dim, bias=bias)  # W^K
        self.v_proj = nn.Linear(dim, dim, bias=bias)  # W^V
        self.out_proj = nn.Linear(dim, dim, bias=bias)  # W^O

    def split_heads(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B nh N hd"]:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # (B, N, D) -> (B, nh, N, hd)

    def forward(
        self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Float[Tensor, "B N D"], Float[Tensor, "B nh N M"] | None]:
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != self.dim:
                raise ValueError(f"MultiHeadAttention expects {name} of shape (B, N, {self.dim}); got {tuple(t.shape)}")
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"query, key and value must share B (and key, value M); got "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        b, n, m = query.shape[0], query.shape[1], key.shape[1]
        if mask is not None:
            check_mask(mask, b, self.heads, n, m)
        q = self.split_heads(self.q_proj(query))  # (B, N, D) -> (B, nh, N, hd)
        k = self.split_heads(self.k_proj(key))  # (B, M, D) -> (B, nh, M, hd)
        v = self.split_heads(self.v_proj(value))  # (B, M, D) -> (B, nh, M, hd)
        p = self.dropout if self.training else 0.0
        if self.fused:
            # one kernel, same equation; it never builds the (N, M) weights in memory
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        else:
            out, weights = scaled_dot_product_attention(q, k, v, mask, dropout=p, training=self.training)
        out = out.transpose(1, 2).reshape(b, n, self.dim)  # (B, nh, N, hd) -> (B, N, nh, hd) -> (B, N, D)
        return self.out_proj(out), weights
