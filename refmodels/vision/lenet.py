"""LeNet-5: Gradient-Based Learning Applied to Document Recognition (LeCun et al., 1998).

Paper: http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf (architecture in section II.B, Figure 2).
Checked against: the paper's layer sizes (C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5,
C5 120, F6 84, output 10) in ``tests/test_lenet.py``. There is no production twin:
no maintained library ships LeNet-5, so parity is checked against the paper's figures.

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, K classes.
    image (B, 1, 32, 32) -> C1 (B, 6, 28, 28) -> S2 (B, 6, 14, 14) -> C3 (B, 16, 10, 10)
    -> S4 (B, 16, 5, 5) -> C5 (B, 120) -> F6 (B, 84) -> logits (B, K)

Differences from the paper:
    * C3 connects every S2 map to every C3 map (the paper's Table I connected each C3
      map to a subset of 3, 4 or 6 maps, to save compute and break symmetry): 2,416
      parameters instead of 1,516.
    * Subsampling is plain average pooling (the paper multiplied the average by a
      trainable coefficient, added a trainable bias, and applied the sigmoid).
    * The activation is tanh (the paper's scaled 1.7159 tanh(2x/3)); ``act="relu"``
      and ``pool="max"`` give the modern variant.
    * The output is a linear layer trained with cross-entropy, not the paper's
      Euclidean RBF units.
    * C5 is written as a linear layer on the flattened 16x5x5 maps, which is what a 5x5
      convolution on a 5x5 map computes.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["LeNet", "LeNetConfig"]


@dataclass(frozen=True)
class LeNetConfig:
    """Settings of :class:`LeNet`; the defaults are LeNet-5 on 32x32 digits."""

    img_size: int = 32
    in_chans: int = 1
    num_classes: int = 10
    widths: tuple[int, ...] = (6, 16)  # C1 and C3 feature maps
    hidden: tuple[int, ...] = (120, 84)  # C5 and F6 units
    act: str = "tanh"  # or "relu"
    pool: str = "avg"  # or "max"

    def __post_init__(self) -> None:
        check_positive(img_size=self.img_size, in_chans=self.in_chans, num_classes=self.num_classes)
        if len(self.widths) != 2 or len(self.hidden) != 2:
            raise ValueError(f"widths and hidden need two entries each; got {self.widths} and {self.hidden}")
        if self.act not in ("tanh", "relu") or self.pool not in ("avg", "max"):
            raise ValueError(f"act must be 'tanh' or 'relu' and pool 'avg' or 'max'; got {self.act!r}, {self.pool!r}")
        if self.img_size < 16 or self.img_size % 4:
            raise ValueError(f"img_size must be a multiple of 4 and at least 16; got {self.img_size}")

    @property
    def final_side(self) -> int:
        """Side of the S4 maps: two 5x5 valid convolutions and two 2x2 pools (32 -> 5)."""
        return ((self.img_size - 4) // 2 - 4) // 2


class LeNet(nn.Module):
    """C1, S2, C3, S4 (two convolution + subsampling pairs), then C5, F6 and the output.

    >>> model = LeNet(LeNetConfig())
    >>> {k: tuple(v.shape) for k, v in model.features(torch.zeros(1, 1, 32, 32)).items()}
    {'C1': (1, 6, 28, 28), 'S2': (1, 6, 14, 14), 'C3': (1, 16, 10, 10), 'S4': (1, 16, 5, 5)}
    """

    def __init__(self, cfg: LeNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        act = nn.Tanh if cfg.act == "tanh" else nn.ReLU
        pool = nn.AvgPool2d if cfg.pool == "avg" else nn.MaxPool2d
        self.c1 = nn.Conv2d(cfg.in_chans, cfg.widths[0], kernel_size=5)  # valid convolution: 32 -> 28
        self.act1 = act()
        self.s2 = pool(2)  # 28 -> 14
        self.c3 = nn.Conv2d(cfg.widths[0], cfg.widths[1], kernel_size=5)  # 14 -> 10
        self.act3 = act()
        self.s4 = pool(2)  # 10 -> 5
        self.c5 = nn.Linear(cfg.widths[1] * cfg.final_side**2, cfg.hidden[0])
        self.act5 = act()
        self.f6 = nn.Linear(cfg.hidden[0], cfg.hidden[1])
        self.act6 = act()
        self.out = nn.Linear(cfg.hidden[1], cfg.num_classes)

    def features(self, x: Tensor) -> dict[str, Tensor]:
        """The feature maps after C1, S2, C3 and S4 (after the activation), keyed by the paper's names."""
        check_image(x, channels=self.cfg.in_chans, model="LeNet")
        if x.shape[-2:] != (self.cfg.img_size, self.cfg.img_size):
            raise ValueError(f"LeNet expects {self.cfg.img_size}x{self.cfg.img_size} images; got {x.shape[2]}x{x.shape[3]}")
        out = {"C1": self.act1(self.c1(x))}
        out["S2"] = self.s2(out["C1"])
        out["C3"] = self.act3(self.c3(out["S2"]))
        out["S4"] = self.s4(out["C3"])
        return out

    def forward_head(self, x: Float[Tensor, "B C h w"]) -> Float[Tensor, "B K"]:
        x = self.act5(self.c5(x.flatten(1)))  # (B, 16, 5, 5) -> (B, 400) -> (B, 120)
        x = self.act6(self.f6(x))  # -> (B, 84)
        return self.out(x)  # -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        return self.forward_head(self.features(x)["S4"])


@register_model()
def lenet5(**overrides) -> LeNet:
    """LeNet-5 for 32x32 grey images and 10 classes."""
    return LeNet(LeNetConfig(**overrides))


@register_model()
def lenet_tiny(**overrides) -> LeNet:
    """A test preset: 16x16 images, a few maps."""
    defaults = dict(img_size=16, widths=(2, 4), hidden=(8, 8))
    return LeNet(LeNetConfig(**{**defaults, **overrides}))
