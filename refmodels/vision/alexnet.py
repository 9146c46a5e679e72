"""AlexNet: ImageNet Classification with Deep Convolutional Neural Networks (Krizhevsky et al., 2012).

Paper: https://papers.nips.cc/paper/4824 (architecture in section 3 and Figure 2).
Checked against: ``torchvision.models.AlexNet`` (``alexnet``): same parameter count on
the meta device, same logits with the same weights, through ``refmodels.parity``
(``tests/test_alexnet.py``,
converter in ``refmodels/convert/torchvision_alexnet.py``).

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, K classes.
    image (B, 3, 224, 224) -> conv1 (B, 64, 55, 55) -> pool (B, 64, 27, 27)
    -> conv2 (B, 192, 27, 27) -> pool (B, 192, 13, 13) -> conv3, conv4, conv5 (B, 256, 13, 13)
    -> pool (B, 256, 6, 6) -> flatten (B, 9216) -> fc6, fc7 (B, 4096) -> fc8 (B, K)     [torchvision]

Differences from the paper:
    * The ``alexnet`` preset is torchvision's, which follows Krizhevsky's later "one weird
      trick" single-GPU variant (arXiv:1404.5997): widths 64-192-384-256-256 instead of
      96-256-384-384-256, no grouped convolutions and no local response normalization.
    * ``alexnet_paper`` builds the 2012 network: the paper's widths, ``groups=2`` in conv2,
      conv4 and conv5 (the layers whose kernels saw only the half of the previous layer
      that lived on the same GPU) and LRN after conv1 and conv2. Its parameter count is
      Caffe's reference AlexNet's (the paper says "60 million").
    * An adaptive average pool to 6x6 before the classifier (from torchvision) lets any
      input size of at least 63 pixels through; at 224 it changes nothing.
"""

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["AlexNet", "AlexNetConfig", "Classifier", "ConvLayer"]

# (kernel, stride, padding, max-pool after?) for conv1 ... conv5, section 3.5 of the paper
LAYOUT = ((11, 4, 2, True), (5, 1, 2, True), (3, 1, 1, False), (3, 1, 1, False), (3, 1, 1, True))
GROUPED = (False, True, False, True, True)  # the paper's two-GPU split: conv2, conv4, conv5


@dataclass(frozen=True)
class AlexNetConfig:
    """Settings of :class:`AlexNet`; the defaults are torchvision's single-GPU variant."""

    widths: tuple[int, ...] = (64, 192, 384, 256, 256)  # channels of conv1 ... conv5
    hidden: int = 4096  # fc6 and fc7
    num_classes: int = 1000
    in_chans: int = 3
    dropout: float = 0.5
    groups: int = 1  # 2 = the paper's two-GPU connectivity in conv2, conv4, conv5
    lrn: bool = False  # local response normalization after conv1 and conv2 (section 3.3)

    def __post_init__(self) -> None:
        if len(self.widths) != 5:
            raise ValueError(f"widths needs one entry per convolution (5); got {self.widths}")
        check_positive(hidden=self.hidden, num_classes=self.num_classes, in_chans=self.in_chans, groups=self.groups)
        for i, w in enumerate(self.widths):
            check_positive(**{f"widths[{i}]": w})
            if w % self.groups:
                raise ValueError(f"widths must be divisible by groups: got widths[{i}]={w} and groups={self.groups}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}")


class ConvLayer(nn.Module):
    """One of conv1 ... conv5: convolution, ReLU, optional LRN, optional 3x3/2 overlapping max pool."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, padding: int, groups: int,
                 lrn: bool, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=padding, groups=groups)
        self.act = nn.ReLU(inplace=True)
        # section 3.3: k=2, n=5, alpha=1e-4, beta=0.75 (PyTorch divides alpha by n; Caffe did too)
        self.norm = nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0) if lrn else nn.Identity()
        # section 3.4: pooling windows of 3 with stride 2 overlap, which the paper found overfits less
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2) if pool else nn.Identity()

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
        return self.pool(self.norm(self.act(self.conv(x))))  # (B, C, H, W) -> (B, D, H', W')


class Classifier(nn.Module):
    """fc6, fc7, fc8: two 4096-wide hidden layers, then K logits.

    Dropout (section 4.2 of the paper) sits before fc6 and fc7, as in torchvision; the paper
    applies it to the outputs of fc6 and fc7.
    """

    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.drop6 = nn.Dropout(dropout)
        self.fc6 = nn.Linear(in_features, hidden)
        self.act6 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout(dropout)
        self.fc7 = nn.Linear(hidden, hidden)
        self.act7 = nn.ReLU(inplace=True)
        self.fc8 = nn.Linear(hidden, num_classes)

    def forward(self, x: Float[Tensor, "B F"]) -> Float[Tensor, "B K"]:
        x = self.act6(self.fc6(self.drop6(x)))  # (B, 9216) -> (B, 4096)
        x = self.act7(self.fc7(self.drop7(x)))  # -> (B, 4096)
        return self.fc8(x)  # -> (B, K)


class AlexNet(nn.Module):
    """Five convolutions (three followed by max pooling), then three fully connected layers.

    >>> model = AlexNet(AlexNetConfig())
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 3, 224, 224)).items()}
    {'conv1': (1, 64, 27, 27), 'conv2': (1, 192, 13, 13), 'conv3': (1, 384, 13, 13), 'conv4': (1, 256, 13, 13), 'conv5': (1, 256, 6, 6)}
    >>> tuple(model(torch.zeros(1, 3, 224, 224)).shape)
    (1, 1000)
    """

    def __init__(self, cfg: AlexNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers, in_ch = [], cfg.in_chans
        for i, ((k, s, p, pool), width) in enumerate(zip(LAYOUT, cfg.widths)):
            groups = cfg.groups if GROUPED[i] else 1
            layers.append((f"conv{i + 1}", ConvLayer(in_ch, width, k, s, p, groups, cfg.lrn and i < 2, pool)))
            in_ch = width
        self.convs = nn.Sequential(OrderedDict(layers))
        self.pool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = Classifier(in_ch * 6 * 6, cfg.hidden, cfg.num_classes, cfg.dropout)

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """The output of each of conv1 ... conv5 (after its ReLU, LRN and pool), keyed by name."""
        check_image(x, channels=self.cfg.in_chans, model="AlexNet")
        out = {}
        for name, layer in self.convs.named_children():
            x = out[name] = layer(x)
        return out

    def forward_head(self, x: Float[Tensor, "B C h w"]) -> Float[Tensor, "B K"]:
        return self.classifier(torch.flatten(self.pool(x), 1))  # (B, 256, 6, 6) -> (B, 9216) -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        check_image(x, channels=self.cfg.in_chans, model="AlexNet")
        if min(x.shape[-2:]) < 63:
            raise ValueError(f"AlexNet expects images of at least 63x63 pixels; got {x.shape[2]}x{x.shape[3]}")
        return self.forward_head(self.convs(x))


@register_model()
def alexnet(**overrides) -> AlexNet:
    """torchvision's AlexNet (the single-GPU "one weird trick" widths, no LRN)."""
    return AlexNet(AlexNetConfig(**overrides))


@register_model()
def alexnet_paper(**overrides) -> AlexNet:
    """The 2012 paper's AlexNet: widths 96-256-384-384-256, two GPU groups, LRN."""
    defaults = dict(widths=(96, 256, 384, 384, 256), groups=2, lrn=True)
    return AlexNet(AlexNetConfig(**{**defaults, **overrides}))


@register_model()
def alexnet_tiny(**overrides) -> AlexNet:
    """A test preset: the same layers at a few channels, for 64x64 images."""
    defaults = dict(widths=(8, 16, 16, 16, 16), hidden=32, num_classes=10)
    return AlexNet(AlexNetConfig(**{**defaults, **overrides}))
