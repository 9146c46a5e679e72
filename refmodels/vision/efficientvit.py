"""EfficientViT (MIT): Multi-Scale Linear Attention for High-Resolution Dense Prediction (Cai et al., 2023).

Paper: https://arxiv.org/abs/2205.14756 (the EfficientViT module in Figure 2, the B0-B3
backbones in Section 3.3).
Checked against: ``timm.models.efficientvit_mit.EfficientVit`` (``efficientvit_b0`` ...
``efficientvit_b3``): same parameter counts on the meta device, same logits with the same
weights and randomised constants (``tests/test_modern_backbones.py``, converter in
``refmodels/convert/timm_efficientvit.py``).

The idea: softmax attention costs O(N^2) in the number of tokens N, which is ruinous at
the resolutions segmentation needs. Replace the softmax similarity exp(q.k) by
relu(q).relu(k): then (relu(Q) relu(K)^T) V = relu(Q) (relu(K)^T V), and computing the
right-hand product first costs O(N d^2), linear in N. ReLU attention is weak at local
detail, so the block adds depthwise convolutions: on q, k, v (5x5, "multi-scale") and
in the MBConv that follows (3x3).

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, N = H*W tokens, nh heads, hd head width, K classes.
    image (B, 3, 224, 224) -> stem (B, 8, 112, 112) -> stage 1 (B, 16, 56, 56)
    -> stage 2 (B, 32, 28, 28) -> stage 3 (B, 64, 14, 14) -> stage 4 (B, 128, 7, 7)
    -> head conv (B, 1024, 7, 7) -> pool (B, 1024) -> MLP -> logits (B, K)   [EfficientViT-B0]

Differences from the paper: none in the architecture. This is the MIT (Cai et al.)
EfficientViT; the MSRA model of the same name (Liu et al., 2023, cascaded group
attention, timm's ``efficientvit_m*``) is a different network.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["PAPER", "ConvNormAct", "DSConv", "EfficientViT", "EfficientViTBlock", "EfficientViTConfig", "LiteMLA", "MBConv"]

#: The ImageNet results of Cai et al. (2023) at 224x224: (parameters in millions, MACs in G).
#: EfficientViT-B0 is not in that table.
PAPER = {"efficientvit_b1": (9.1, 0.52)}


@dataclass(frozen=True)
class EfficientViTConfig:
    """Settings of :class:`EfficientViT`; the defaults are EfficientViT-B0."""

    widths: tuple[int, ...] = (8, 16, 32, 64, 128)  # stem, then stages 1-4
    depths: tuple[int, ...] = (1, 2, 2, 2, 2)  # stem DSConv blocks, then blocks per stage
    head_dim: int = 16  # width of each linear-attention head
    expand_ratio: int = 4  # MBConv expansion
    scales: tuple[int, ...] = (5,)  # kernel sizes of the multi-scale q, k, v aggregation
    head_widths: tuple[int, ...] = (1024, 1280)  # the classifier's 1x1 conv and hidden layer
    num_classes: int = 1000
    in_chans: int = 3

    def __post_init__(self) -> None:
        if len(self.widths) != 5 or len(self.depths) != 5:
            raise ValueError(f"widths and depths need 5 entries (stem + 4 stages); got {self.widths} and {self.depths}")
        for i, (w, d) in enumerate(zip(self.widths, self.depths)):
            check_positive(**{f"widths[{i}]": w, f"depths[{i}]": d})
        check_positive(head_dim=self.head_dim, expand_ratio=self.expand_ratio, num_classes=self.num_classes,
                       in_chans=self.in_chans)
        if any(w % self.head_dim for w in self.widths[3:]):
            raise ValueError(f"stage 3 and 4 widths must be divisible by head_dim; got {self.widths[3:]} and {self.head_dim}")
        if len(self.head_widths) != 2:
            raise ValueError(f"head_widths needs 2 entries; got {self.head_widths}")

    @property
    def stride(self) -> int:
        return 32  # stem x2, then x2 at every stage


class ConvNormAct(nn.Sequential):
    """Conv, then optionally BatchNorm and Hardswish: the unit every block is built from."""

    def __init__(self, in_ch: int, out_ch: int, k: int = 1, stride: int = 1, groups: int = 1, *,
                 bias: bool = False, norm: bool = True, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, k, stride, padding=k // 2, groups=groups, bias=bias)
        if norm:
            self.norm = nn.BatchNorm2d(out_ch)
        if act:
            self.act = nn.Hardswish()


class DSConv(nn.Module):
    """Depthwise-separable conv with a residual: x + PW(DW3x3(x)). The stem's blocks."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dw = ConvNormAct(dim, dim, 3, groups=dim)
        self.pw = ConvNormAct(dim, dim, 1, act=False)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        return x + self.pw(self.dw(x))


class MBConv(nn.Module):
    """Inverted bottleneck (MobileNetV2): 1x1 expand, 3x3 depthwise, 1x1 project; residual when shapes agree.

    ``fewer_norm`` (the attention stages): the first two convs have biases and no BatchNorm.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expand: int, fewer_norm: bool = False) -> None:
        super().__init__()
        mid = in_ch * expand
        self.residual = stride == 1 and in_ch == out_ch
        self.expand = ConvNormAct(in_ch, mid, 1, bias=fewer_norm, norm=not fewer_norm)
        self.dw = ConvNormAct(mid, mid, 3, stride, groups=mid, bias=fewer_norm, norm=not fewer_norm)
        self.project = ConvNormAct(mid, out_ch, 1, act=False)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        y = self.project(self.dw(self.expand(x)))  # (B, C, H, W) -> (B, eC, H, W) -> (B, D, H/s, W/s)
        return x + y if self.residual else y


class LiteMLA(nn.Module):
    """Multi-scale ReLU linear attention, with a residual: x + BN(proj(attention)).

    q, k, v come from a 1x1 conv; a 5x5 depthwise + grouped 1x1 conv makes a second,
    multi-scale set of q, k, v, treated as extra heads. Each head computes
    relu(q) (relu(k)^T [v 1]) and divides by its last column, the normaliser.
    """

    def __init__(self, dim: int, head_dim: int, scales: tuple[int, ...] = (5,), eps: float = 1e-5) -> None:
        super().__init__()
        self.head_dim, self.eps = head_dim, eps
        heads = dim // head_dim
        qkv_dim = 3 * heads * head_dim
        self.qkv = nn.Conv2d(dim, qkv_dim, 1, bias=False)
        self.multiscale = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(qkv_dim, qkv_dim, k, padding=k // 2, groups=qkv_dim, bias=False),  # depthwise kxk
                nn.Conv2d(qkv_dim, qkv_dim, 1, groups=3 * heads, bias=False),  # mixes within each head's q, k or v
            )
            for k in scales
        )
        self.proj = ConvNormAct(heads * head_dim * (1 + len(scales)), dim, 1, act=False)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        B, _, H, W = x.shape
        qkv = self.qkv(x)
        qkv = torch.cat([qkv] + [op(qkv) for op in self.multiscale], dim=1)  # (B, S*3*nh*hd, H, W)
        # channels are laid out head by head, [q k v] within a head: (B, S*nh, 3*hd, N) -> (B, S*nh, N, 3*hd)
        qkv = qkv.reshape(B, -1, 3 * self.head_dim, H * W).transpose(-1, -2)
        q, k, v = qkv.chunk(3, dim=-1)  # 3 x (B, h, N, hd) with h = S*nh
        q, k = F.relu(q), F.relu(k)  # the kernel: sim(q, k) = relu(q) . relu(k)
        v = F.pad(v, (0, 1), value=1.0)  # (B, h, N, hd + 1): the last column of ones sums the similarities
        kv = k.transpose(-1, -2) @ v  # (B, h, hd, hd + 1): O(N hd^2), never an N x N matrix
        out = q @ kv  # (B, h, N, hd + 1)
        out = out[..., :-1] / (out[..., -1:] + self.eps)  # divide by sum_j sim(q_i, k_j)
        out = out.transpose(-1, -2).reshape(B, -1, H, W)  # (B, h, N, hd) -> (B, h*hd, H, W)
        return x + self.proj(out)


class EfficientViTBlock(nn.Module):
    """Context (LiteMLA, global) then local (MBConv, 3x3 depthwise), each with a residual."""

    def __init__(self, dim: int, cfg: EfficientViTConfig) -> None:
        super().__init__()
        self.context = LiteMLA(dim, cfg.head_dim, cfg.scales)
        self.local = MBConv(dim, dim, 1, cfg.expand_ratio, fewer_norm=True)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        return self.local(self.context(x))


class Stem(nn.Module):
    """A 3x3 stride-2 ConvNormAct, then DSConv blocks at half resolution."""

    def __init__(self, in_ch: int, dim: int, depth: int) -> None:
        super().__init__()
        self.conv = ConvNormAct(in_ch, dim, 3, stride=2)
        self.blocks = nn.Sequential(*[DSConv(dim) for _ in range(depth)])

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.blocks(self.conv(x))  # (B, 3, H, W) -> (B, D, H/2, W/2)


def make_stage(in_ch: int, i: int, cfg: EfficientViTConfig) -> nn.Sequential:
    """Stage i (1-4): a stride-2 MBConv, then MBConvs (stages 1-2) or EfficientViT blocks (stages 3-4)."""
    out_ch, depth, vit = cfg.widths[i], cfg.depths[i], i >= 3
    blocks: list[nn.Module] = [MBConv(in_ch, out_ch, 2, cfg.expand_ratio, fewer_norm=vit)]
    if vit:
        blocks += [EfficientViTBlock(out_ch, cfg) for _ in range(depth)]
    else:
        blocks += [MBConv(out_ch, out_ch, 1, cfg.expand_ratio) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


class EfficientViT(nn.Module):
    """Conv stem, two MBConv stages, two EfficientViT stages, a 1x1 conv + MLP classifier.

    >>> model = EfficientViT(EfficientViTConfig())
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 3, 224, 224)).items()}
    {'stem': (1, 8, 112, 112), 'stage1': (1, 16, 56, 56), 'stage2': (1, 32, 28, 28), 'stage3': (1, 64, 14, 14), 'stage4': (1, 128, 7, 7)}
    """

    def __init__(self, cfg: EfficientViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = Stem(cfg.in_chans, cfg.widths[0], cfg.depths[0])
        self.stages = nn.Sequential(*[make_stage(cfg.widths[i - 1], i, cfg) for i in range(1, 5)])
        h0, h1 = cfg.head_widths
        self.head_conv = ConvNormAct(cfg.widths[-1], h0, 1)
        self.fc1 = nn.Linear(h0, h1, bias=False)
        self.norm = nn.LayerNorm(h1)
        self.act = nn.Hardswish()
        self.fc2 = nn.Linear(h1, cfg.num_classes)

    def _check(self, x: Tensor) -> None:
        check_image(x, channels=self.cfg.in_chans, model="EfficientViT", multiple_of=self.cfg.stride)

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """The feature map after the stem and after each stage, keyed by name."""
        self._check(x)
        out = {"stem": self.stem(x)}
        h = out["stem"]
        for i, stage in enumerate(self.stages, start=1):
            h = out[f"stage{i}"] = stage(h)
        return out

    def forward_head(self, x: Float[Tensor, "B C h w"]) -> Float[Tensor, "B K"]:
        x = self.head_conv(x).mean((2, 3))  # (B, C, h, w) -> (B, h0, h, w) -> (B, h0)
        return self.fc2(self.act(self.norm(self.fc1(x))))  # -> (B, h1) -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        self._check(x)
        return self.forward_head(self.stages(self.stem(x)))


def _build(defaults: dict, overrides: dict) -> EfficientViT:
    return EfficientViT(EfficientViTConfig(**{**defaults, **overrides}))


@register_model()
def efficientvit_b0(**overrides) -> EfficientViT:
    return _build({"widths": (8, 16, 32, 64, 128), "depths": (1, 2, 2, 2, 2), "head_widths": (1024, 1280)}, overrides)


@register_model()
def efficientvit_b1(**overrides) -> EfficientViT:
    return _build({"widths": (16, 32, 64, 128, 256), "depths": (1, 2, 3, 3, 4), "head_widths": (1536, 1600)}, overrides)


@register_model()
def efficientvit_b2(**overrides) -> EfficientViT:
    return _build({"widths": (24, 48, 96, 192, 384), "depths": (1, 3, 4, 4, 6), "head_widths": (2304, 2560), "head_dim": 32}, overrides)


@register_model()
def efficientvit_tiny(**overrides) -> EfficientViT:
    """An EfficientViT small enough for tests and sweeps: B0's widths, one block per stage, a small head."""
    return _build({"widths": (8, 16, 32, 32, 64), "depths": (1, 1, 1, 1, 1), "head_widths": (64, 64), "num_classes": 10}, overrides)
