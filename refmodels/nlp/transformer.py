"""The Transformer: an encoder-decoder built from attention alone (Vaswani et al., 2017).

Paper: https://arxiv.org/abs/1706.03762 ("Attention Is All You Need"), Figure 1, section 3,
Table 3 (base and big configurations, 65M and 213M parameters).
Checked against: ``torch.nn.TransformerEncoderLayer`` and ``torch.nn.TransformerDecoderLayer``
(post-norm and ``norm_first=True``: same outputs with the same weights, converter in
``refmodels/convert/torch_nn.py``), and the layer parameter counts of ``torch.nn.Transformer``,
in ``tests/test_transformer.py``.

Shapes (batch-first, one glossary for the project)::

    B batch, N source tokens, T target tokens, D width, V vocabulary.
    source ids (B, N) -> embed * sqrt(D) + positions (B, N, D) -> encoder layers (B, N, D) = memory
    target ids (B, T) -> embed * sqrt(D) + positions (B, T, D)
    -> decoder layers (masked self-attention, cross-attention to memory, feed-forward) (B, T, D)
    -> linear (tied to the embedding) -> logits (B, T, V)

Differences from the paper:
    * Post-norm (``LayerNorm(x + Sublayer(x))``) as in the paper is the default;
      ``norm_first=True`` gives pre-norm (``x + Sublayer(LayerNorm(x))``, with a final
      LayerNorm after each stack), which trains without warm-up and is what most later
      models use (Xiong et al., 2020).
    * The paper's exact vocabulary is not published; it says "about 37000" shared
      source-target byte-pair tokens for EN-DE. The presets use 37000.
    * Attention dropout (on the weights, the placement of tensor2tensor and torch) uses
      the same rate as the residual dropout; the paper mentions only the residual and
      embedding dropout.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from jaxtyping import Bool, Float, Int
from torch import Tensor

from refmodels.checks import check_positive
from refmodels.nlp.attention import MultiHeadAttention, causal_mask, padding_mask
from refmodels.nlp.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from refmodels.registry import register_model

__all__ = ["DecoderLayer", "EncoderLayer", "FeedForward", "PAPER_PARAMS", "Transformer", "TransformerConfig"]

#: Table 3 of the paper, "params" column (EN-DE).
PAPER_PARAMS = {"transformer_base": 65e6, "transformer_big": 213e6}


@dataclass(frozen=True)
class TransformerConfig:
    """Settings of :class:`Transformer`; the defaults are the paper's base model (Table 3)."""

    vocab_size: int = 37000  # shared source-target BPE vocabulary (EN-DE, section 5.1)
    dim: int = 512  # d_model
    heads: int = 8  # h
    ffn_dim: int = 2048  # d_ff
    encoder_layers: int = 6  # N
    decoder_layers: int = 6
    dropout: float = 0.1  # P_drop
    norm_first: bool = False  # False: post-norm as in the paper; True: pre-norm
    share_embeddings: bool = True  # one matrix: source and target embeddings and the pre-softmax linear
    positional: str = "sinusoidal"  # or "learned" (the paper's Table 3, row E: nearly identical results)
    max_len: int = 1024  # rows of the learned position table (unused by sinusoidal)
    pad_id: int = 0
    eps: float = 1e-5

    def __post_init__(self) -> None:
        check_positive(vocab_size=self.vocab_size, dim=self.dim, heads=self.heads, ffn_dim=self.ffn_dim,
                       encoder_layers=self.encoder_layers, decoder_layers=self.decoder_layers, max_len=self.max_len)
        if self.dim % self.heads:
            raise ValueError(f"width must be divisible by heads: got {self.dim} and {self.heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout}")
        if self.positional not in ("sinusoidal", "learned"):
            raise ValueError(f"positional must be 'sinusoidal' or 'learned'; got {self.positional!r}")
        if not 0 <= self.pad_id < self.vocab_size:
            raise ValueError(f"pad_id must be a token id in [0, {self.vocab_size}); got {self.pad_id}")


class FeedForward(nn.Module):
    """Position-wise feed-forward network (section 3.3): FFN(x) = max(0, x W1 + b1) W2 + b2."""

    def __init__(self, dim: int, ffn_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ffn_dim, dim)

    def forward(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B N D"]:
        return self.linear2(self.dropout(self.act(self.linear1(x))))  # (B, N, D) -> (B, N, d_ff) -> (B, N, D)


class EncoderLayer(nn.Module):
    """Self-attention then feed-forward, each wrapped in a residual add and a LayerNorm."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float = 0.0, norm_first: bool = False,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(dim, heads, dropout=dropout)
        self.ffn = FeedForward(dim, ffn_dim, dropout)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def _sa(self, x: Float[Tensor, "B N D"], mask: Tensor | None) -> Float[Tensor, "B N D"]:
        return self.dropout1(self.self_attn(x, mask=mask)[0])

    def forward(self, x: Float[Tensor, "B N D"], mask: Tensor | None = None) -> Float[Tensor, "B N D"]:
        if self.norm_first:  # pre-norm: x + Sublayer(LayerNorm(x))
            x = x + self._sa(self.norm1(x), mask)
            return x + self.dropout2(self.ffn(self.norm2(x)))
        x = self.norm1(x + self._sa(x, mask))  # post-norm (the paper): LayerNorm(x + Sublayer(x))
        return self.norm2(x + self.dropout2(self.ffn(x)))


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention to the encoder's memory, feed-forward; each add & norm."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float = 0.0, norm_first: bool = False,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(dim, heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(dim, heads, dropout=dropout)  # queries: decoder; keys, values: memory
        self.ffn = FeedForward(dim, ffn_dim, dropout)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.norm3 = nn.LayerNorm(dim, eps=eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def _sa(self, x: Float[Tensor, "B T D"], mask: Tensor | None) -> Float[Tensor, "B T D"]:
        return self.dropout1(self.self_attn(x, mask=mask)[0])

    def _ca(self, x: Float[Tensor, "B T D"], memory: Float[Tensor, "B N D"], mask: Tensor | None) -> Float[Tensor, "B T D"]:
        return self.dropout2(self.cross_attn(x, memory, memory, mask=mask)[0])  # (B, T, D) x (B, N, D) -> (B, T, D)

    def forward(self, x: Float[Tensor, "B T D"], memory: Float[Tensor, "B N D"], self_mask: Tensor | None = None,
                memory_mask: Tensor | None = None) -> Float[Tensor, "B T D"]:
        if self.norm_first:
            x = x + self._sa(self.norm1(x), self_mask)
            x = x + self._ca(self.norm2(x), memory, memory_mask)
            return x + self.dropout3(self.ffn(self.norm3(x)))
        x = self.norm1(x + self._sa(x, self_mask))
        x = self.norm2(x + self._ca(x, memory, memory_mask))
        return self.norm3(x + self.dropout3(self.ffn(x)))


class Transformer(nn.Module):
    """The encoder-decoder of Figure 1: ``forward(source_ids, target_ids) -> logits``.

    The target is fed shifted right (it starts with a begin token) and the logits at
    position t predict target token t + 1, with teacher forcing during training.

    >>> model = Transformer(TransformerConfig(vocab_size=40, dim=32, heads=4, ffn_dim=64,
    ...                                       encoder_layers=2, decoder_layers=2))
    >>> tuple(model(torch.randint(1, 40, (2, 7)), torch.randint(1, 40, (2, 5))).shape)
    (2, 5, 40)
    """

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.src_embed = nn.Embedding(cfg.vocab_size, d)
        self.tgt_embed = self.src_embed if cfg.share_embeddings else nn.Embedding(cfg.vocab_size, d)
        if cfg.positional == "sinusoidal":
            self.pos = SinusoidalPositionalEncoding(d)
        else:
            self.pos = LearnedPositionalEmbedding(cfg.max_len, d)
        self.embed_dropout = nn.Dropout(cfg.dropout)
        layer_args = (d, cfg.heads, cfg.ffn_dim, cfg.dropout, cfg.norm_first, cfg.eps)
        self.encoder = nn.ModuleList(EncoderLayer(*layer_args) for _ in range(cfg.encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(*layer_args) for _ in range(cfg.decoder_layers))
        # pre-norm leaves the residual stream un-normalised: one LayerNorm closes each stack
        self.encoder_norm = nn.LayerNorm(d, eps=cfg.eps) if cfg.norm_first else nn.Identity()
        self.decoder_norm = nn.LayerNorm(d, eps=cfg.eps) if cfg.norm_first else nn.Identity()
        self.head = nn.Linear(d, cfg.vocab_size, bias=False)
        self._init_weights()
        if cfg.share_embeddings:
            self.head.weight = self.src_embed.weight  # section 3.4: the same matrix, three uses

    def _init_weights(self) -> None:
        for name, p in self.named_parameters():
            if "norm" not in name and p.dim() > 1 and "embed" not in name and "pos" not in name:
                nn.init.xavier_uniform_(p)
        # N(0, 1/D), so that embedding * sqrt(D) has unit variance (as tensor2tensor and fairseq)
        for emb in {self.src_embed, self.tgt_embed}:
            nn.init.normal_(emb.weight, std=self.cfg.dim**-0.5)

    def _check_ids(self, ids: Tensor, name: str) -> None:
        if ids.ndim != 2 or ids.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"Transformer expects {name} token ids of shape (B, L) and an integer dtype; "
                             f"got shape {tuple(ids.shape)} and {ids.dtype}")

    def embed(self, ids: Int[Tensor, "B L"], table: nn.Embedding) -> Float[Tensor, "B L D"]:
        x = table(ids) * math.sqrt(self.cfg.dim)  # (B, L) -> (B, L, D), scaled as in section 3.4
        return self.embed_dropout(self.pos(x))

    def encode(self, src: Tensor) -> tuple[Float[Tensor, "B N D"], Bool[Tensor, "B 1 1 N"]]:
        """Memory (B, N, D) and the source padding mask (B, 1, 1, N) the decoder reuses."""
        self._check_ids(src, "source")
        src_mask = padding_mask(src, self.cfg.pad_id)
        x = self.embed(src, self.src_embed)
        for layer in self.encoder:
            x = layer(x, src_mask)
        return self.encoder_norm(x), src_mask

    def decode(self, tgt: Tensor, memory: Float[Tensor, "B N D"], src_mask: Bool[Tensor, "B 1 1 N"]) -> Float[Tensor, "B T V"]:
        """Logits for every target position; position t sees target tokens 0..t only."""
        self._check_ids(tgt, "target")
        t = tgt.shape[1]
        self_mask = padding_mask(tgt, self.cfg.pad_id) & causal_mask(t, tgt.device)  # (B, 1, 1, T) & (T, T) -> (B, 1, T, T)
        x = self.embed(tgt, self.tgt_embed)
        for layer in self.decoder:
            x = layer(x, memory, self_mask, src_mask)
        return self.head(self.decoder_norm(x))  # (B, T, D) -> (B, T, V)

    def forward(self, src: Tensor, tgt: Tensor) -> Float[Tensor, "B T V"]:
        memory, src_mask = self.encode(src)
        return self.decode(tgt, memory, src_mask)

    @torch.no_grad()
    def generate(self, src: Tensor, bos_id: int, eos_id: int, max_new_tokens: int) -> Int[Tensor, "B L"]:
        """Greedy decoding, one token at a time: the decoder only ever sees what it wrote."""
        memory, src_mask = self.encode(src)
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_new_tokens):
            next_id = self.decode(out, memory, src_mask)[:, -1].argmax(-1)  # (B, V) -> (B,)
            next_id = next_id.masked_fill(done, self.cfg.pad_id)  # finished rows write padding
            out = torch.cat([out, next_id[:, None]], dim=1)
            done |= next_id == eos_id
            if done.all():
                break
        return out


def _build(**fields) -> Transformer:
    return Transformer(TransformerConfig(**fields))


@register_model()
def transformer_base(**overrides) -> Transformer:
    """Table 3, "base": d_model 512, 8 heads, d_ff 2048, 6 + 6 layers, P_drop 0.1."""
    return _build(**overrides)


@register_model()
def transformer_big(**overrides) -> Transformer:
    """Table 3, "big": d_model 1024, 16 heads, d_ff 4096, 6 + 6 layers, P_drop 0.3 (EN-DE)."""
    return _build(**{**dict(dim=1024, heads=16, ffn_dim=4096, dropout=0.3), **overrides})


@register_model()
def transformer_tiny(**overrides) -> Transformer:
    """Small enough for tests and for training in a page: d 32, 4 heads, 2 + 2 layers."""
    defaults = dict(vocab_size=32, dim=32, heads=4, ffn_dim=64, encoder_layers=2, decoder_layers=2, dropout=0.0)
    return _build(**{**defaults, **overrides})
