"""PoolFormer and the MetaFormer view: MetaFormer Is Actually What You Need for Vision (Yu et al., 2022).

Paper: https://arxiv.org/abs/2111.11418 (the MetaFormer block in Figure 1, PoolFormer-S12 ...
M48 in Table 1).
Checked against: ``timm.models.metaformer.MetaFormer`` (``poolformer_s12`` ... ``poolformer_m48``):
same parameter counts on the meta device, same logits with the same weights and randomised
constants
(``tests/test_modern_backbones.py``, converter in ``refmodels/convert/timm_poolformer.py``).

The paper's claim: a transformer block's strength comes from its *shape*, the
MetaFormer ``x + TokenMixer(Norm(x))`` then ``x + MLP(Norm(x))``, more than from the
attention inside it. To test it, the token mixer here is a config field: ``"pooling"``
(PoolFormer: a 3x3 average pool, no parameters), ``"attention"`` (multi-head
self-attention over all H*W positions) or ``"identity"`` (no mixing at all).

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, N = H*W tokens, K classes.
    image (B, 3, 224, 224) -> stem (B, 64, 56, 56) -> stage 1 (B, 64, 56, 56)
    -> stage 2 (B, 128, 28, 28) -> stage 3 (B, 320, 14, 14) -> stage 4 (B, 512, 7, 7)
    -> pool + LayerNorm (B, 512) -> logits (B, K)                 [PoolFormer-S12]

Differences from the paper:
    * The classifier normalises *after* global pooling (LayerNorm on the pooled
      vector), as timm's MetaFormer does; the paper's code applied a GroupNorm to the
      last feature map before pooling. Same parameter count, slightly different function.
    * The attention mixer is this file's own (multi-head, head width 32, no biases on
      q, k, v) for the mixer experiment; PoolFormer itself has no attention.
    * Stochastic depth is left out. The stem's kernel, stride and padding are config
      fields so a small MetaFormer can run on 8x8 digits.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["Attention", "Block", "MIXERS", "MetaFormer", "MetaFormerConfig", "PAPER", "Pooling"]

#: The token mixers a MetaFormer block can use: pooling (PoolFormer), attention, identity.
MIXERS = ("pooling", "attention", "identity")

#: Table 2 of the paper (ImageNet-1k, 224x224): (M parameters, G MACs)
PAPER = {"poolformer_s12": (12, 1.8), "poolformer_s24": (21, 3.4), "poolformer_s36": (31, 5.0)}


@dataclass(frozen=True)
class MetaFormerConfig:
    """Settings of :class:`MetaFormer`; the defaults are PoolFormer-S12."""

    depths: tuple[int, ...] = (2, 2, 6, 2)  # blocks per stage
    dims: tuple[int, ...] = (64, 128, 320, 512)  # channels per stage
    mixer: str = "pooling"  # the token mixer of every block: one of MIXERS
    pool_size: int = 3
    head_dim: int = 32  # attention mixer only
    mlp_ratio: int = 4
    layer_scale: float = 1e-5  # initial value of the per-channel residual scales
    stem_kernel: int = 7  # the stem: a 7x7 conv with stride 4 and padding 2 ...
    stem_stride: int = 4
    stem_padding: int = 2  # ... overlapping patches, unlike ViT's and ConvNeXt's
    num_classes: int = 1000
    in_chans: int = 3

    def __post_init__(self) -> None:
        if self.mixer not in MIXERS:
            raise ValueError(f"mixer must be one of {MIXERS}; got {self.mixer!r}")
        if not self.depths or len(self.depths) != len(self.dims):
            raise ValueError(f"depths and dims need one entry per stage; got {self.depths} and {self.dims}")
        check_positive(mlp_ratio=self.mlp_ratio, stem_kernel=self.stem_kernel, stem_stride=self.stem_stride,
                       num_classes=self.num_classes, in_chans=self.in_chans, head_dim=self.head_dim)
        for i, (n, d) in enumerate(zip(self.depths, self.dims)):
            check_positive(**{f"depths[{i}]": n, f"dims[{i}]": d})
        if self.mixer == "attention" and any(d % self.head_dim for d in self.dims):
            raise ValueError(f"every dim must be divisible by head_dim for attention; got {self.dims} and {self.head_dim}")
        if self.pool_size % 2 != 1:
            raise ValueError(f"pool_size must be odd so pooling keeps H, W; got {self.pool_size}")

    @property
    def stride(self) -> int:
        """Total downsampling: the stem's stride, then x2 at every later stage."""
        return self.stem_stride * 2 ** (len(self.depths) - 1)


class Pooling(nn.Module):
    """PoolFormer's token mixer: AvgPool(x) - x. Subtracting x because the block adds x back."""

    def __init__(self, pool_size: int = 3) -> None:
        super().__init__()
        # count_include_pad=False: border positions average only over real neighbours
        self.pool = nn.AvgPool2d(pool_size, stride=1, padding=pool_size // 2, count_include_pad=False)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        return self.pool(x) - x


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions of a feature map."""

    def __init__(self, dim: int, head_dim: int = 32) -> None:
        super().__init__()
        self.heads, self.head_dim = dim // head_dim, head_dim
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        B, C, H, W = x.shape
        t = x.flatten(2).transpose(1, 2)  # (B, C, H, W) -> (B, N, C)
        q, k, v = self.qkv(t).view(B, H * W, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)  # 3 x (B, nh, N, hd)
        t = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(hd)) v
        t = self.proj(t.transpose(1, 2).reshape(B, H * W, C))  # (B, nh, N, hd) -> (B, N, C)
        return t.transpose(1, 2).reshape(B, C, H, W)  # -> (B, C, H, W)


def make_mixer(kind: str, dim: int, cfg: MetaFormerConfig) -> nn.Module:
    if kind == "pooling":
        return Pooling(cfg.pool_size)
    if kind == "attention":
        return Attention(dim, cfg.head_dim)
    return nn.Identity()


class Block(nn.Module):
    """The MetaFormer block: x = x + s1 * Mixer(Norm(x)); x = x + s2 * MLP(Norm(x)).

    Norm is GroupNorm with one group (normalise over C, H and W of each image); the MLP is
    two 1x1 convolutions, so the block never leaves the (B, C, H, W) layout.
    """

    def __init__(self, dim: int, mixer: nn.Module, mlp_ratio: int = 4, layer_scale: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(1, dim)
        self.mixer = mixer
        self.scale1 = nn.Parameter(torch.full((dim,), layer_scale))
        self.norm2 = nn.GroupNorm(1, dim)
        self.fc1 = nn.Conv2d(dim, mlp_ratio * dim, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(mlp_ratio * dim, dim, 1)
        self.scale2 = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        x = x + self.scale1.view(-1, 1, 1) * self.mixer(self.norm1(x))  # mix tokens (positions)
        return x + self.scale2.view(-1, 1, 1) * self.fc2(self.act(self.fc1(self.norm2(x))))  # mix channels


class Stage(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, depth: int, cfg: MetaFormerConfig) -> None:
        super().__init__()
        # a 3x3 stride-2 conv halves H, W between stages (overlapping patch embedding)
        self.downsample = nn.Conv2d(in_dim, out_dim, 3, stride=2, padding=1) if in_dim != out_dim else nn.Identity()
        self.blocks = nn.Sequential(
            *[Block(out_dim, make_mixer(cfg.mixer, out_dim, cfg), cfg.mlp_ratio, cfg.layer_scale) for _ in range(depth)]
        )

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.blocks(self.downsample(x))


class MetaFormer(nn.Module):
    """Overlapping-patch stem, stages of MetaFormer blocks, pool, LayerNorm, linear classifier.

    >>> model = MetaFormer(MetaFormerConfig())
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 3, 224, 224)).items()}
    {'stem': (1, 64, 56, 56), 'stage1': (1, 64, 56, 56), 'stage2': (1, 128, 28, 28), 'stage3': (1, 320, 14, 14), 'stage4': (1, 512, 7, 7)}
    """

    def __init__(self, cfg: MetaFormerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = nn.Conv2d(cfg.in_chans, cfg.dims[0], cfg.stem_kernel, stride=cfg.stem_stride, padding=cfg.stem_padding)
        dims_in = (cfg.dims[0],) + cfg.dims[:-1]
        self.stages = nn.Sequential(*[Stage(i, o, d, cfg) for i, o, d in zip(dims_in, cfg.dims, cfg.depths)])
        self.norm = nn.LayerNorm(cfg.dims[-1], eps=1e-6)
        self.fc = nn.Linear(cfg.dims[-1], cfg.num_classes)
        for m in self.modules():  # truncated normal (std 0.02), zero biases, as in the paper's code
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _check(self, x: Tensor) -> None:
        check_image(x, channels=self.cfg.in_chans, model="MetaFormer", multiple_of=self.cfg.stride)

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """The feature map after the stem and after each stage, keyed by name."""
        self._check(x)
        out = {"stem": self.stem(x)}
        h = out["stem"]
        for i, stage in enumerate(self.stages, start=1):
            h = out[f"stage{i}"] = stage(h)
        return out

    def forward_head(self, x: Float[Tensor, "B C h w"]) -> Float[Tensor, "B K"]:
        return self.fc(self.norm(x.mean((2, 3))))  # (B, C, h, w) -> (B, C) -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        self._check(x)
        return self.forward_head(self.stages(self.stem(x)))


def _build(defaults: dict, overrides: dict) -> MetaFormer:
    return MetaFormer(MetaFormerConfig(**{**defaults, **overrides}))


@register_model()
def poolformer_s12(**overrides) -> MetaFormer:
    return _build({"depths": (2, 2, 6, 2), "dims": (64, 128, 320, 512)}, overrides)


@register_model()
def poolformer_s24(**overrides) -> MetaFormer:
    return _build({"depths": (4, 4, 12, 4), "dims": (64, 128, 320, 512)}, overrides)


@register_model()
def poolformer_s36(**overrides) -> MetaFormer:
    return _build({"depths": (6, 6, 18, 6), "dims": (64, 128, 320, 512), "layer_scale": 1e-6}, overrides)


@register_model()
def poolformer_tiny(**overrides) -> MetaFormer:
    """A MetaFormer small enough for tests and sweeps: one block per stage, narrow widths."""
    return _build({"depths": (1, 1, 1, 1), "dims": (16, 32, 32, 64), "num_classes": 10, "head_dim": 16}, overrides)
