"""FastViT: A Fast Hybrid Vision Transformer using Structural Reparameterization (Vasu et al., 2023).

Paper: https://arxiv.org/abs/2303.14189 (RepMixer in Section 3.2.1, the variants in Table 2).
Checked against: ``timm.models.fastvit.FastVit`` (``fastvit_t8``, ``fastvit_t12``,
``fastvit_s12``, ``fastvit_sa12`` ...): same parameter counts on the meta device, same
logits with the same weights and randomised constants, before and after reparameterization
(``tests/test_modern_backbones.py``, converter in ``refmodels/convert/timm_fastvit.py``).

The idea: train a network with several parallel *linear* branches (a kxk conv with
BatchNorm, a 1x1 conv with BatchNorm, a BatchNorm skip), then, for inference, fold
all of them into one convolution: in eval mode each branch is an affine function of
the input, and a sum of convolutions is one convolution. RepMixer applies the trick
to a token mixer, ``x + gamma * (DWConvBN(x) - BN(x))``, so that at inference the whole
residual block, skip connection included, is a single depthwise convolution.
``FastViT.reparameterize()`` does the folding in place; the outputs stay the same.

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, N = H*W tokens, K classes.
    image (B, 3, 256, 256) -> stem (B, 48, 64, 64) -> stage 1 (B, 48, 64, 64)
    -> stage 2 (B, 96, 32, 32) -> stage 3 (B, 192, 16, 16) -> stage 4 (B, 384, 8, 8)
    -> final conv (B, 768, 8, 8) -> pool (B, 768) -> logits (B, K)        [FastViT-T8]

Differences from the paper: none in the architecture (the paper's models are trained
at 256x256). Stochastic depth and the multi-branch counts above one (MobileOne's
``num_conv_branches``) are left out: every FastViT preset uses one conv branch.
"""

import copy
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["PAPER", "AttentionBlock", "ConvBN", "FastViT", "FastViTConfig", "RepConv", "RepMixer", "RepMixerBlock"]

#: The paper's ImageNet table (Vasu et al., 2023), at 256x256: (parameters in millions, "FLOPs" in G).
#: Its GFLOPs agree with our multiply-add counts; its parameter counts are below ours and
#: timm's, branched or folded, and the paper does not say what they leave out.
PAPER = {"fastvit_t8": (3.6, 0.7), "fastvit_sa12": (10.9, 1.9)}


@dataclass(frozen=True)
class FastViTConfig:
    """Settings of :class:`FastViT`; the defaults are FastViT-T8."""

    layers: tuple[int, ...] = (2, 2, 4, 2)  # blocks per stage
    dims: tuple[int, ...] = (48, 96, 192, 384)  # channels per stage
    mlp_ratios: tuple[int, ...] = (3, 3, 3, 3)
    mixers: tuple[str, ...] = ("repmixer", "repmixer", "repmixer", "repmixer")  # or "attention"
    pos_embs: tuple[bool, ...] = (False, False, False, False)  # a RepCPE before the stage's blocks
    repmixer_kernel: int = 3
    down_kernel: int = 7  # the large depthwise kernel of each downsampling patch embedding
    cls_ratio: int = 2  # the final conv widens the last stage's channels by this factor
    layer_scale: float = 1e-5
    head_dim: int = 32  # attention blocks
    num_classes: int = 1000
    in_chans: int = 3

    def __post_init__(self) -> None:
        n = len(self.layers)
        if not (len(self.dims) == len(self.mlp_ratios) == len(self.mixers) == len(self.pos_embs) == n == 4):
            raise ValueError(
                f"layers, dims, mlp_ratios, mixers and pos_embs need one entry per stage (4); got {self.layers}, "
                f"{self.dims}, {self.mlp_ratios}, {self.mixers}, {self.pos_embs}"
            )
        for i in range(n):
            check_positive(**{f"layers[{i}]": self.layers[i], f"dims[{i}]": self.dims[i], f"mlp_ratios[{i}]": self.mlp_ratios[i]})
            if self.mixers[i] not in ("repmixer", "attention"):
                raise ValueError(f"mixers[{i}] must be 'repmixer' or 'attention'; got {self.mixers[i]!r}")
            if self.mixers[i] == "attention" and self.dims[i] % self.head_dim:
                raise ValueError(f"dims[{i}] must be divisible by head_dim; got {self.dims[i]} and {self.head_dim}")
        check_positive(cls_ratio=self.cls_ratio, num_classes=self.num_classes, in_chans=self.in_chans)
        for name in ("repmixer_kernel", "down_kernel"):
            if getattr(self, name) % 2 != 1:
                raise ValueError(f"{name} must be odd; got {getattr(self, name)}")

    @property
    def stride(self) -> int:
        return 32  # stem x4, then x2 at stages 2, 3 and 4


# -- folding helpers: every branch below becomes a (kernel, bias) pair of one convolution --


def fuse_bn(kernel: Tensor, bn: nn.BatchNorm2d) -> tuple[Tensor, Tensor]:
    """BN(conv(x)) = conv'(x) + b': scale each output kernel by gamma / std, shift by beta - mean * gamma / std."""
    std = (bn.running_var + bn.eps).sqrt()
    t = bn.weight / std
    return kernel * t.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * t


def identity_kernel(channels: int, groups: int, k: int, like: Tensor) -> Tensor:
    """The kxk (grouped) convolution that copies its input: a 1 at the centre tap of each channel's own input."""
    per_group = channels // groups
    kernel = torch.zeros(channels, per_group, k, k, dtype=like.dtype, device=like.device)
    kernel[torch.arange(channels), torch.arange(channels) % per_group, k // 2, k // 2] = 1
    return kernel


def fused_conv(kernel: Tensor, bias: Tensor, stride: int, groups: int) -> nn.Conv2d:
    k = kernel.shape[-1]
    conv = nn.Conv2d(kernel.shape[1] * groups, kernel.shape[0], k, stride, padding=k // 2, groups=groups, bias=True)
    conv.weight.data.copy_(kernel.detach())
    conv.bias.data.copy_(bias.detach())
    return conv.to(kernel.device)


# -- blocks, leaf first ---------------------------------------------------------------


class ConvBN(nn.Module):
    """A convolution without bias followed by BatchNorm: one linear branch."""

    def __init__(self, in_ch: int, out_ch: int, k: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, k, stride, padding=k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.bn(self.conv(x))


class SqueezeExcite(nn.Module):
    """Channel gates from the global average: x * sigmoid(W2 relu(W1 mean(x)))."""

    def __init__(self, ch: int, ratio: float = 1 / 16) -> None:
        super().__init__()
        hidden = max(1, int(ch * ratio + 0.5))
        self.fc1 = nn.Conv2d(ch, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, ch, 1)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        s = x.mean((2, 3), keepdim=True)  # (B, C, H, W) -> (B, C, 1, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class RepConv(nn.Module):
    """MobileOne block: sum of a kxk ConvBN, a 1x1 ConvBN and a BatchNorm skip, then SE and GELU.

    At training time the three branches run side by side; ``reparameterize()`` folds them
    into ``fused``, one kxk convolution with a bias (equation fastvit-fold on the page).
    """

    def __init__(self, in_ch: int, out_ch: int, k: int, stride: int = 1, groups: int = 1, *, conv: bool = True,
                 scale: bool = True, act: bool = True, se: bool = False) -> None:
        super().__init__()
        self.k, self.stride, self.groups, self.in_ch = k, stride, groups, in_ch
        self.skip = nn.BatchNorm2d(in_ch) if in_ch == out_ch and stride == 1 else None
        self.conv = ConvBN(in_ch, out_ch, k, stride, groups) if conv else None
        self.scale = ConvBN(in_ch, out_ch, 1, stride, groups) if scale and k > 1 else None
        self.se = SqueezeExcite(out_ch) if se else nn.Identity()
        self.act = nn.GELU() if act else nn.Identity()
        self.fused: nn.Conv2d | None = None

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        if self.fused is not None:
            return self.act(self.se(self.fused(x)))
        y = 0
        for branch in (self.conv, self.scale, self.skip):
            if branch is not None:
                y = y + branch(x)
        return self.act(self.se(y))

    def kernel_bias(self) -> tuple[Tensor, Tensor]:
        """The one kxk convolution equal to the sum of the branches (in eval mode)."""
        parts = []
        if self.conv is not None:
            parts.append(fuse_bn(self.conv.conv.weight, self.conv.bn))
        if self.scale is not None:
            kernel, bias = fuse_bn(self.scale.conv.weight, self.scale.bn)
            pad = self.k // 2
            parts.append((F.pad(kernel, [pad] * 4), bias))  # a 1x1 kernel is a kxk kernel with zeros around it
        if self.skip is not None:
            like = self.skip.weight
            parts.append(fuse_bn(identity_kernel(self.in_ch, self.groups, self.k, like), self.skip))
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def reparameterize(self) -> None:
        kernel, bias = self.kernel_bias()
        self.fused = fused_conv(kernel, bias, self.stride, self.groups)
        self.conv = self.scale = self.skip = None


class LargeKernelConv(nn.Module):
    """RepLKNet's trick: a large depthwise ConvBN plus a parallel 3x3 ConvBN, folded into one at inference."""

    def __init__(self, in_ch: int, out_ch: int, k: int, stride: int, small: int = 3) -> None:
        super().__init__()
        self.k, self.stride, self.groups = k, stride, in_ch
        self.large = ConvBN(in_ch, out_ch, k, stride, groups=in_ch)
        self.small = ConvBN(in_ch, out_ch, small, stride, groups=in_ch)
        self.fused: nn.Conv2d | None = None

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        if self.fused is not None:
            return self.fused(x)
        return self.large(x) + self.small(x)

    def reparameterize(self) -> None:
        kernel, bias = fuse_bn(self.large.conv.weight, self.large.bn)
        small_k, small_b = fuse_bn(self.small.conv.weight, self.small.bn)
        pad = (self.k - small_k.shape[-1]) // 2
        self.fused = fused_conv(kernel + F.pad(small_k, [pad] * 4), bias + small_b, self.stride, self.groups)
        self.large = self.small = None


class PatchEmbed(nn.Module):
    """Downsampling between stages: a 7x7 stride-2 depthwise LargeKernelConv, then a 1x1 RepConv."""

    def __init__(self, in_ch: int, out_ch: int, k: int) -> None:
        super().__init__()
        self.lk = LargeKernelConv(in_ch, out_ch, k, stride=2)
        self.pw = RepConv(out_ch, out_ch, 1)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.pw(self.lk(x))  # (B, C, H, W) -> (B, D, H/2, W/2)


class RepMixer(nn.Module):
    """y = x + gamma * (DWConvBN(x) - BN(x)); at inference one depthwise conv (skip included)."""

    def __init__(self, dim: int, k: int = 3, layer_scale: float = 1e-5) -> None:
        super().__init__()
        self.dim, self.k = dim, k
        self.norm = RepConv(dim, dim, k, groups=dim, conv=False, scale=False, act=False)  # BN only
        self.mixer = RepConv(dim, dim, k, groups=dim, act=False)  # kxk + 1x1 + BN skip
        self.gamma = nn.Parameter(torch.full((dim, 1, 1), layer_scale))
        self.fused: nn.Conv2d | None = None

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        if self.fused is not None:
            return self.fused(x)
        return x + self.gamma * (self.mixer(x) - self.norm(x))

    def reparameterize(self) -> None:
        w_mix, b_mix = self.mixer.kernel_bias()
        w_norm, b_norm = self.norm.kernel_bias()
        eye = identity_kernel(self.dim, self.dim, self.k, w_mix)
        g = self.gamma.unsqueeze(-1)  # (C, 1, 1) -> (C, 1, 1, 1), one scale per output kernel
        self.fused = fused_conv(eye + g * (w_mix - w_norm), self.gamma.flatten() * (b_mix - b_norm), 1, self.dim)
        self.norm = self.mixer = None
        self.gamma = None


class RepCPE(nn.Module):
    """Conditional positional encoding x + DWConv7x7(x), folded into one depthwise conv at inference."""

    def __init__(self, dim: int, k: int = 7) -> None:
        super().__init__()
        self.dim, self.k = dim, k
        self.conv = nn.Conv2d(dim, dim, k, padding=k // 2, groups=dim)
        self.fused: nn.Conv2d | None = None

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        if self.fused is not None:
            return self.fused(x)
        return x + self.conv(x)

    def reparameterize(self) -> None:
        eye = identity_kernel(self.dim, self.dim, self.k, self.conv.weight)
        self.fused = fused_conv(eye + self.conv.weight, self.conv.bias, 1, self.dim)
        self.conv = None


class ConvMlp(nn.Module):
    """A 7x7 depthwise ConvBN, then the usual 1x1 expand, GELU, 1x1 project."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.conv = ConvBN(dim, dim, 7, groups=dim)
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        return self.fc2(self.act(self.fc1(self.conv(x))))


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions of a feature map."""

    def __init__(self, dim: int, head_dim: int = 32) -> None:
        super().__init__()
        self.heads, self.head_dim = dim // head_dim, head_dim
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        B, C, H, W = x.shape
        t = x.flatten(2).transpose(1, 2)  # (B, C, H, W) -> (B, N, C)
        q, k, v = self.qkv(t).view(B, H * W, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)  # 3 x (B, nh, N, hd)
        t = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(hd)) v
        t = self.proj(t.transpose(1, 2).reshape(B, H * W, C))  # (B, nh, N, hd) -> (B, N, C)
        return t.transpose(1, 2).reshape(B, C, H, W)


class RepMixerBlock(nn.Module):
    """x = RepMixer(x); x = x + gamma * ConvMlp(x). The mixer carries its own residual."""

    def __init__(self, dim: int, mlp_ratio: int, cfg: FastViTConfig) -> None:
        super().__init__()
        self.mixer = RepMixer(dim, cfg.repmixer_kernel, cfg.layer_scale)
        self.mlp = ConvMlp(dim, dim * mlp_ratio)
        self.gamma = nn.Parameter(torch.full((dim, 1, 1), cfg.layer_scale))

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        x = self.mixer(x)
        return x + self.gamma * self.mlp(x)


class AttentionBlock(nn.Module):
    """The MetaFormer block with attention: x + g1 * Attn(BN(x)), then x + g2 * ConvMlp(x)."""

    def __init__(self, dim: int, mlp_ratio: int, cfg: FastViTConfig) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(dim)
        self.attn = Attention(dim, cfg.head_dim)
        self.gamma1 = nn.Parameter(torch.full((dim, 1, 1), cfg.layer_scale))
        self.mlp = ConvMlp(dim, dim * mlp_ratio)
        self.gamma2 = nn.Parameter(torch.full((dim, 1, 1), cfg.layer_scale))

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        x = x + self.gamma1 * self.attn(self.norm(x))
        return x + self.gamma2 * self.mlp(x)


class Stage(nn.Module):
    def __init__(self, in_dim: int, i: int, cfg: FastViTConfig) -> None:
        super().__init__()
        dim = cfg.dims[i]
        self.downsample = PatchEmbed(in_dim, dim, cfg.down_kernel) if i > 0 else nn.Identity()
        self.pos = RepCPE(dim) if cfg.pos_embs[i] else nn.Identity()
        block = RepMixerBlock if cfg.mixers[i] == "repmixer" else AttentionBlock
        self.blocks = nn.Sequential(*[block(dim, cfg.mlp_ratios[i], cfg) for _ in range(cfg.layers[i])])

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.blocks(self.pos(self.downsample(x)))


class FastViT(nn.Module):
    """MobileOne stem, four stages (RepMixer or attention blocks), an SE conv, pool, linear classifier.

    >>> model = FastViT(FastViTConfig())
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 3, 256, 256)).items()}
    {'stem': (1, 48, 64, 64), 'stage1': (1, 48, 64, 64), 'stage2': (1, 96, 32, 32), 'stage3': (1, 192, 16, 16), 'stage4': (1, 384, 8, 8)}
    """

    def __init__(self, cfg: FastViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d0 = cfg.dims[0]
        self.stem = nn.Sequential(
            RepConv(cfg.in_chans, d0, 3, stride=2),  # (B, 3, H, W) -> (B, d0, H/2, W/2)
            RepConv(d0, d0, 3, stride=2, groups=d0),  # depthwise -> (B, d0, H/4, W/4)
            RepConv(d0, d0, 1),  # pointwise
        )
        dims_in = (d0,) + cfg.dims[:-1]
        self.stages = nn.Sequential(*[Stage(dims_in[i], i, cfg) for i in range(4)])
        width = cfg.dims[-1] * cfg.cls_ratio
        self.final_conv = RepConv(cfg.dims[-1], width, 3, groups=cfg.dims[-1], se=True)
        self.fc = nn.Linear(width, cfg.num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=0.02)
        nn.init.zeros_(self.fc.bias)

    def reparameterize(self) -> "FastViT":
        """Fold every multi-branch module into one convolution, in place; returns the model.

        Call it in eval mode: the folding uses BatchNorm's running statistics.
        """

        def fold(module: nn.Module) -> None:
            for child in module.children():
                if hasattr(child, "reparameterize"):
                    child.reparameterize()
                else:
                    fold(child)

        with torch.no_grad():
            fold(self)
        return self

    def fused_copy(self) -> "FastViT":
        """A reparameterized deep copy, in eval mode; this model is left as it is."""
        return copy.deepcopy(self).eval().reparameterize()

    def _check(self, x: Tensor) -> None:
        check_image(x, channels=self.cfg.in_chans, model="FastViT", multiple_of=self.cfg.stride)

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """The feature map after the stem and after each stage, keyed by name."""
        self._check(x)
        out = {"stem": self.stem(x)}
        h = out["stem"]
        for i, stage in enumerate(self.stages, start=1):
            h = out[f"stage{i}"] = stage(h)
        return out

    def forward_head(self, x: Float[Tensor, "B C h w"]) -> Float[Tensor, "B K"]:
        return self.fc(self.final_conv(x).mean((2, 3)))  # (B, C, h, w) -> (B, 2C, h, w) -> (B, 2C) -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        self._check(x)
        return self.forward_head(self.stages(self.stem(x)))


def _build(**fields) -> FastViT:
    return FastViT(FastViTConfig(**fields))


@register_model()
def fastvit_t8(**overrides) -> FastViT:
    return _build(**{"layers": (2, 2, 4, 2), "dims": (48, 96, 192, 384), "mlp_ratios": (3, 3, 3, 3), **overrides})


@register_model()
def fastvit_t12(**overrides) -> FastViT:
    return _build(**{"layers": (2, 2, 6, 2), "dims": (64, 128, 256, 512), "mlp_ratios": (3, 3, 3, 3), **overrides})


@register_model()
def fastvit_s12(**overrides) -> FastViT:
    return _build(**{"layers": (2, 2, 6, 2), "dims": (64, 128, 256, 512), "mlp_ratios": (4, 4, 4, 4), **overrides})


@register_model()
def fastvit_sa12(**overrides) -> FastViT:
    """FastViT-SA12: RepMixer in stages 1-3, attention (after a RepCPE) in stage 4."""
    return _build(**{
        "layers": (2, 2, 6, 2), "dims": (64, 128, 256, 512), "mlp_ratios": (4, 4, 4, 4),
        "mixers": ("repmixer", "repmixer", "repmixer", "attention"), "pos_embs": (False, False, False, True),
        **overrides,
    })


@register_model()
def fastvit_tiny(**overrides) -> FastViT:
    """A FastViT small enough for tests and sweeps, with both mixers: RepMixer, then attention in stage 4."""
    return _build(**{
        "layers": (1, 1, 1, 1), "dims": (8, 16, 16, 32), "mlp_ratios": (2, 2, 2, 2), "head_dim": 16,
        "mixers": ("repmixer", "repmixer", "repmixer", "attention"), "pos_embs": (False, False, False, True),
        "num_classes": 10, **overrides,
    })
