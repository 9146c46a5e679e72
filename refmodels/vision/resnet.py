"""ResNet: Deep Residual Learning for Image Recognition (He et al., 2015).

Paper: https://arxiv.org/abs/1512.03385 (architectures in Table 1, shortcuts "option B").
Checked against: ``timm.models.resnet.ResNet`` (``resnet18`` ... ``resnet152``): same
parameter counts on the meta device, same logits with the same weights and randomised
constants
(``tests/test_resnet.py``, converter in ``refmodels/convert/timm_resnet.py``).

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, K classes.
    image (B, 3, 224, 224) -> stem (B, 64, 56, 56) -> stage 1 (B, 256, 56, 56)
    -> stage 2 (B, 512, 28, 28) -> stage 3 (B, 1024, 14, 14) -> stage 4 (B, 2048, 7, 7)
    -> pool (B, 2048) -> logits (B, K)        [ResNet-50; Basic-block nets end at 512]

Differences from the paper:
    * The stride of a downsampling bottleneck sits in its 3x3 convolution, as in
      torchvision and timm ("ResNet v1.5"; "ResNet-B" in Bag of Tricks, He et al. 2019).
      The paper put it in the first 1x1 convolution, which skips three quarters of
      the input pixels before any 3x3 sees them. v1.5 costs more (4.1 vs 3.8
      GMACs for ResNet-50) and is about half a point more accurate. Set
      ``stride_in_3x3=False`` to get the paper's placement.
    * Shortcuts are identity, or a 1x1 convolution plus BatchNorm where the shape
      changes: the paper's option B, as in torchvision and timm (the paper's CIFAR nets use option A).
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["BasicBlock", "Bottleneck", "PAPER_GMACS", "ResNet", "ResNetConfig", "Shortcut", "Stem"]

#: Table 1 of the paper, bottom row, labelled "FLOPs" but counting multiply-adds.
PAPER_GMACS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3}


@dataclass(frozen=True)
class ResNetConfig:
    """Settings of :class:`ResNet`: block, blocks per stage, widths, stride placement (v1 / v1.5)."""

    block: str  # "basic" (ResNet-18/34) or "bottleneck" (ResNet-50/101/152)
    layers: tuple[int, ...]  # blocks per stage (conv2_x ... conv5_x in Table 1)
    widths: tuple[int, ...] = (64, 128, 256, 512)  # 3x3 conv width in each stage
    stem_width: int = 64
    num_classes: int = 1000
    in_chans: int = 3
    stride_in_3x3: bool = True  # v1.5 (torchvision, timm); False = the paper's v1
    residual: bool = True  # False: the paper's "plain" baseline, same layers, no shortcuts

    def __post_init__(self) -> None:
        if self.block not in ("basic", "bottleneck"):
            raise ValueError(f"block must be 'basic' or 'bottleneck'; got {self.block!r}")
        if len(self.layers) != 4 or len(self.widths) != 4:
            raise ValueError(f"layers and widths need one entry per stage (4); got {self.layers} and {self.widths}")
        check_positive(stem_width=self.stem_width, num_classes=self.num_classes, in_chans=self.in_chans)
        for i, (n, w) in enumerate(zip(self.layers, self.widths)):
            check_positive(**{f"layers[{i}]": n, f"widths[{i}]": w})


class Stem(nn.Module):
    """conv1 and the max pool of Table 1: a 7x7/2 convolution then a 3x3/2 pool (4x smaller)."""

    def __init__(self, in_chans: int, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_chans, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.act = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        x = self.act(self.bn(self.conv(x)))  # (B, 3, H, W) -> (B, 64, H/2, W/2)
        return self.pool(x)  # -> (B, 64, H/4, W/4)


class Shortcut(nn.Module):
    """Projection shortcut (option B): W_s x, a strided 1x1 conv plus BatchNorm."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=1, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.bn(self.conv(x))


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    # Identity where shapes already agree, so the block computes y = F(x) + x exactly.
    return Shortcut(in_ch, out_ch, stride) if stride != 1 or in_ch != out_ch else nn.Identity()


class BasicBlock(nn.Module):
    """ResNet-18/34 block: two 3x3 convolutions, y = relu(F(x) + shortcut(x))."""

    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1, stride_in_3x3: bool = True, residual: bool = True) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, out_ch, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut = _shortcut(in_ch, out_ch, stride) if residual else None
        self.act2 = nn.ReLU(inplace=True)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        out = self.act1(self.bn1(self.conv1(x)))  # (B, C, H, W) -> (B, w, H/s, W/s)
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)  # the residual add: y = F(x) + x
        return self.act2(out)


class Bottleneck(nn.Module):
    """ResNet-50/101/152 block: 1x1 reduce, 3x3, 1x1 expand by 4; y = relu(F(x) + shortcut(x))."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1, stride_in_3x3: bool = True, residual: bool = True) -> None:
        super().__init__()
        out_ch = width * self.expansion
        stride_1x1, stride_3x3 = (1, stride) if stride_in_3x3 else (stride, 1)
        self.conv1 = nn.Conv2d(in_ch, width, kernel_size=1, stride=stride_1x1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride_3x3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.act2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width, out_ch, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.shortcut = _shortcut(in_ch, out_ch, stride) if residual else None
        self.act3 = nn.ReLU(inplace=True)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        out = self.act1(self.bn1(self.conv1(x)))  # (B, C, H, W) -> (B, w, H, W): reduce
        out = self.act2(self.bn2(self.conv2(out)))  # -> (B, w, H/s, W/s): the only 3x3
        out = self.bn3(self.conv3(out))  # -> (B, 4w, H/s, W/s): expand
        if self.shortcut is not None:
            out = out + self.shortcut(x)  # the residual add: y = F(x) + x
        return self.act3(out)


class ResNet(nn.Module):
    """Stem, four stages of residual blocks, global average pool, linear classifier.

    >>> model = ResNet(ResNetConfig("bottleneck", (3, 4, 6, 3)))
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 3, 224, 224)).items()}
    {'stem': (1, 64, 56, 56), 'stage1': (1, 256, 56, 56), 'stage2': (1, 512, 28, 28), 'stage3': (1, 1024, 14, 14), 'stage4': (1, 2048, 7, 7)}
    >>> tuple(model(torch.zeros(1, 3, 224, 224)).shape)
    (1, 1000)
    """

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        block = BasicBlock if cfg.block == "basic" else Bottleneck
        self.stem = Stem(cfg.in_chans, cfg.stem_width)
        stages, in_ch = [], cfg.stem_width
        for i, (depth, width) in enumerate(zip(cfg.layers, cfg.widths)):
            stride = 1 if i == 0 else 2  # stage 1 follows the stem's pool; later stages halve H, W
            blocks = []
            for j in range(depth):
                blocks.append(block(in_ch, width, stride if j == 0 else 1, cfg.stride_in_3x3, cfg.residual))
                in_ch = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.num_features = in_ch
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, cfg.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # He et al. 2015 ("Delving deep into rectifiers") initialisation for ReLU nets.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """The feature map after the stem and after each stage, keyed by name."""
        check_image(x, channels=self.cfg.in_chans, model="ResNet")
        out = {"stem": self.stem(x)}
        h = out["stem"]
        for i, stage in enumerate(self.stages, start=1):
            h = out[f"stage{i}"] = stage(h)
        return out

    def forward_head(self, x: Float[Tensor, "B C h w"]) -> Float[Tensor, "B K"]:
        return self.fc(torch.flatten(self.pool(x), 1))  # (B, C, h, w) -> (B, C) -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        check_image(x, channels=self.cfg.in_chans, model="ResNet")
        x = self.stem(x)
        x = self.stages(x)
        return self.forward_head(x)


def _build(overrides: dict, **preset) -> ResNet:
    # any config field, the preset's own included, can be overridden
    return ResNet(ResNetConfig(**{**preset, **overrides}))


@register_model()
def resnet18(**overrides) -> ResNet:
    return _build(overrides, block="basic", layers=(2, 2, 2, 2))


@register_model()
def resnet34(**overrides) -> ResNet:
    return _build(overrides, block="basic", layers=(3, 4, 6, 3))


@register_model()
def resnet50(**overrides) -> ResNet:
    return _build(overrides, block="bottleneck", layers=(3, 4, 6, 3))


@register_model()
def resnet101(**overrides) -> ResNet:
    return _build(overrides, block="bottleneck", layers=(3, 4, 23, 3))


@register_model()
def resnet152(**overrides) -> ResNet:
    return _build(overrides, block="bottleneck", layers=(3, 8, 36, 3))


@register_model()
def resnet_tiny(**overrides) -> ResNet:
    """A bottleneck ResNet small enough for tests: one block per stage, narrow widths."""
    return _build(overrides, block="bottleneck", layers=(1, 1, 1, 1), widths=(8, 16, 32, 64), stem_width=8, num_classes=10)
