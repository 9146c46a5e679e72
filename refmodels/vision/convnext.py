"""ConvNeXt: A ConvNet for the 2020s (Liu et al., 2022).

Paper: https://arxiv.org/abs/2201.03545 (the "modernizing" roadmap in Figure 2,
ConvNeXt-T/S/B/L in Section 3).
Checked against: ``timm.models.convnext.ConvNeXt`` (``convnext_tiny`` ... ``convnext_large``):
same parameter counts on the meta device, same logits with the same weights and randomised
constants
(``tests/test_modern_backbones.py``, converter in ``refmodels/convert/timm_convnext.py``).

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, K classes.
    image (B, 3, 224, 224) -> patchify stem (B, 96, 56, 56) -> stage 1 (B, 96, 56, 56)
    -> stage 2 (B, 192, 28, 28) -> stage 3 (B, 384, 14, 14) -> stage 4 (B, 768, 7, 7)
    -> pool + LayerNorm (B, 768) -> logits (B, K)              [ConvNeXt-T]

Differences from the paper: none in the architecture. The block runs its two
pointwise convolutions as ``nn.Linear`` on channels-last tensors, as the official
code and timm do (the paper draws them as 1x1 convolutions; the maths is the same).
Stochastic depth (a training-time regulariser) is left out.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["Block", "ConvNeXt", "ConvNeXtConfig", "Downsample", "LayerNorm2d", "PAPER", "PatchifyStem"]

#: Table 1 of the paper (ImageNet-1k, 224x224): (M parameters, G "FLOPs", which are multiply-adds)
PAPER = {"convnext_tiny": (29, 4.5), "convnext_small": (50, 8.7), "convnext_base": (89, 15.4)}


@dataclass(frozen=True)
class ConvNeXtConfig:
    """Settings of :class:`ConvNeXt`; the defaults are ConvNeXt-T."""

    depths: tuple[int, ...] = (3, 3, 9, 3)  # blocks per stage; the paper's 1:1:3:1 ratio (Swin's)
    dims: tuple[int, ...] = (96, 192, 384, 768)  # channels per stage
    patch_size: int = 4  # the stem: a non-overlapping patch_size x patch_size conv
    kernel_size: int = 7  # depthwise kernel of every block
    mlp_ratio: int = 4  # inverted bottleneck: 4x wider in the middle
    layer_scale: float = 1e-6  # initial value of the per-channel residual scale gamma
    num_classes: int = 1000
    in_chans: int = 3

    def __post_init__(self) -> None:
        if len(self.depths) != 4 or len(self.dims) != 4:
            raise ValueError(f"depths and dims need one entry per stage (4); got {self.depths} and {self.dims}")
        check_positive(patch_size=self.patch_size, mlp_ratio=self.mlp_ratio, num_classes=self.num_classes,
                       in_chans=self.in_chans)
        for i, (n, d) in enumerate(zip(self.depths, self.dims)):
            check_positive(**{f"depths[{i}]": n, f"dims[{i}]": d})
        if self.kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd so the depthwise conv keeps H, W; got {self.kernel_size}")

    @property
    def stride(self) -> int:
        """Total downsampling: the stem's patch size, then x2 at stages 2, 3 and 4."""
        return self.patch_size * 8


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) map, one position at a time."""

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        x = x.permute(0, 2, 3, 1)  # (B, C, H, W) -> (B, H, W, C)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)  # -> (B, C, H, W)


class PatchifyStem(nn.Module):
    """A 4x4 convolution with stride 4: ViT's patch embedding, cutting the image into 4x4 patches."""

    def __init__(self, in_chans: int, dim: int, patch_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size)
        self.norm = LayerNorm2d(dim, eps=1e-6)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.norm(self.conv(x))  # (B, 3, H, W) -> (B, D, H/4, W/4)


class Downsample(nn.Module):
    """Between stages: LayerNorm, then a 2x2 stride-2 conv (Swin's patch merging as a conv)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.norm = LayerNorm2d(in_dim, eps=1e-6)
        self.conv = nn.Conv2d(in_dim, out_dim, kernel_size=2, stride=2)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.conv(self.norm(x))  # (B, C, H, W) -> (B, 2C, H/2, W/2)


class Block(nn.Module):
    """y = x + gamma * Linear(GELU(Linear(LN(dwconv7x7(x))))): a transformer block made of convs.

    The depthwise 7x7 conv mixes positions (the attention's job), the inverted-bottleneck
    MLP mixes channels; one norm and one activation per block, as in a transformer.
    """

    def __init__(self, dim: int, kernel_size: int = 7, mlp_ratio: int = 4, layer_scale: float = 1e-6) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp_ratio * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(mlp_ratio * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B C H W"]:
        y = self.dwconv(x).permute(0, 2, 3, 1)  # (B, C, H, W) -> (B, H, W, C): channels last
        y = self.fc2(self.act(self.fc1(self.norm(y))))  # C -> 4C -> C at every position
        y = y.permute(0, 3, 1, 2)  # -> (B, C, H, W)
        return x + self.gamma.view(1, -1, 1, 1) * y


class Stage(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, depth: int, cfg: ConvNeXtConfig) -> None:
        super().__init__()
        self.downsample = Downsample(in_dim, out_dim) if in_dim != out_dim else nn.Identity()
        self.blocks = nn.Sequential(*[Block(out_dim, cfg.kernel_size, cfg.mlp_ratio, cfg.layer_scale) for _ in range(depth)])

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.blocks(self.downsample(x))


class ConvNeXt(nn.Module):
    """Patchify stem, four stages of ConvNeXt blocks, global average pool, LayerNorm, linear classifier.

    >>> model = ConvNeXt(ConvNeXtConfig())
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 3, 224, 224)).items()}
    {'stem': (1, 96, 56, 56), 'stage1': (1, 96, 56, 56), 'stage2': (1, 192, 28, 28), 'stage3': (1, 384, 14, 14), 'stage4': (1, 768, 7, 7)}
    """

    def __init__(self, cfg: ConvNeXtConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = PatchifyStem(cfg.in_chans, cfg.dims[0], cfg.patch_size)
        dims_in = (cfg.dims[0],) + cfg.dims[:-1]
        self.stages = nn.Sequential(*[Stage(i, o, d, cfg) for i, o, d in zip(dims_in, cfg.dims, cfg.depths)])
        self.norm = nn.LayerNorm(cfg.dims[-1], eps=1e-6)
        self.fc = nn.Linear(cfg.dims[-1], cfg.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # truncated normal (std 0.02) for every conv and linear weight, zero biases, as in the paper's code
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def _check(self, x: Tensor) -> None:
        check_image(x, channels=self.cfg.in_chans, model="ConvNeXt", multiple_of=self.cfg.stride)

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


def _build(defaults: dict, overrides: dict) -> ConvNeXt:
    return ConvNeXt(ConvNeXtConfig(**{**defaults, **overrides}))


@register_model()
def convnext_tiny(**overrides) -> ConvNeXt:
    """ConvNeXt-T (28.6 M parameters). Its timm name is also the family's ``_tiny`` preset,
    so the registry sweep runs the real ConvNeXt-T (on small images, which costs little)."""
    return _build({"depths": (3, 3, 9, 3), "dims": (96, 192, 384, 768)}, overrides)


@register_model()
def convnext_small(**overrides) -> ConvNeXt:
    return _build({"depths": (3, 3, 27, 3), "dims": (96, 192, 384, 768)}, overrides)


@register_model()
def convnext_base(**overrides) -> ConvNeXt:
    return _build({"depths": (3, 3, 27, 3), "dims": (128, 256, 512, 1024)}, overrides)
