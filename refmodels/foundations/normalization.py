"""Normalization layers written out: BatchNorm, LayerNorm, GroupNorm and RMSNorm.

Papers: Batch Normalization (Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167),
Layer Normalization (Ba, Kiros & Hinton, 2016, https://arxiv.org/abs/1607.06450),
Group Normalization (Wu & He, 2018, https://arxiv.org/abs/1803.08494),
Root Mean Square Layer Normalization (Zhang & Sennrich, 2019, https://arxiv.org/abs/1910.07467),
pre- and post-norm residual blocks (Xiong et al., 2020, https://arxiv.org/abs/2002.04745).
Checked against: ``torch.nn.BatchNorm1d`` / ``BatchNorm2d`` (training and evaluation,
running statistics), ``torch.nn.LayerNorm``, ``torch.nn.GroupNorm``, ``torch.nn.RMSNorm``:
same outputs, same input and parameter gradients, same buffers, with gamma, beta
and the running statistics randomised first (``refmodels.parity``;
``tests/test_normalization.py``). The state dicts use torch's names, so
``ours.load_state_dict(theirs.state_dict())`` copies the weights.

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W spatial size, N tokens, D width, G groups.
    Every layer returns a tensor of its input's shape. They differ in the axes the
    mean and variance are taken over, which the shapes of the statistics show:
    BatchNorm  x (B, C, H, W): one mean per channel, over (B, H, W)  -> (1, C, 1, 1)
    LayerNorm  x (B, N, D):    one mean per token, over D            -> (B, N, 1)
    GroupNorm  x (B, C, H, W): one mean per sample and group         -> (B, G, 1)
    RMSNorm    x (B, N, D):    one root mean square per token        -> (B, N, 1)

Differences from torch:
    * One ``BatchNorm`` class covers ``BatchNorm1d`` ((B, C) and (B, C, L)) and
      ``BatchNorm2d`` ((B, C, H, W)); torch checks the rank per class.
    * The affine parameters and the running statistics are always on
      (torch's defaults); there is no ``affine=False`` / ``track_running_stats=False``.
"""

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_positive

__all__ = [
    "BatchNorm",
    "DeepMLP",
    "GroupNorm",
    "LayerNorm",
    "RMSNorm",
    "ResidualBlock",
    "ResidualStack",
    "make_norm",
]


def _check_channels(x: Tensor, channels: int, layer: str) -> None:
    if not isinstance(x, Tensor) or x.ndim < 2:
        got = f"a {x.ndim}-d tensor of shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{layer} expects (B, C, ...) with C={channels}; got {got}")
    if x.shape[1] != channels:
        raise ValueError(f"{layer} expects {channels} channels in dim 1, (B, {channels}, ...); got shape {tuple(x.shape)}")


def _check_last_dims(x: Tensor, shape: tuple[int, ...], layer: str) -> None:
    if not isinstance(x, Tensor) or x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape) :]) != shape:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{layer} expects the last dims to be {shape}, (..., {', '.join(map(str, shape))}); got {got}")


class BatchNorm(nn.Module):
    """Normalize each channel over the batch (and the spatial axes); torch's BatchNorm1d/2d.

    Training: the batch's own mean and (biased) variance normalize it, and the
    running estimates move towards them: ``running = (1 - momentum) * running +
    momentum * batch``, with the *unbiased* variance. Evaluation: the running
    estimates normalize, so one sample's output no longer depends on the batch.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1) -> None:
        super().__init__()
        check_positive(num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))  # beta
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def batch_stats(self, x: Float[Tensor, "B C *S"]) -> tuple[Tensor, Tensor]:
        """Mean and biased variance of each channel over every axis but 1, kept broadcastable."""
        axes = [0, *range(2, x.ndim)]  # all but the channel axis
        mean = x.mean(dim=axes, keepdim=True)  # (B, C, H, W) -> (1, C, 1, 1)
        var = x.var(dim=axes, keepdim=True, unbiased=False)
        return mean, var

    def forward(self, x: Tensor) -> Float[Tensor, "B C *S"]:
        _check_channels(x, self.num_features, "BatchNorm")
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # broadcast (C,) over (B, C, ...)
        if self.training:
            n = x.numel() // self.num_features  # values per channel
            if n < 2:
                raise ValueError(f"BatchNorm needs more than one value per channel in training; got shape {tuple(x.shape)}")
            mean, var = self.batch_stats(x)
            with torch.no_grad():
                self.num_batches_tracked += 1
                # momentum=None: a plain average over every batch seen so far
                m = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
                # running <- (1 - m) running + m batch; the variance estimate is unbiased (n - 1)
                self.running_mean.mul_(1 - m).add_(mean.flatten(), alpha=m)
                self.running_var.mul_(1 - m).add_(var.flatten() * n / (n - 1), alpha=m)
        else:
            mean, var = self.running_mean.view(shape), self.running_var.view(shape)
        x_hat = (x - mean) / torch.sqrt(var + self.eps)  # zero mean, unit variance per channel
        return x_hat * self.weight.view(shape) + self.bias.view(shape)  # gamma x_hat + beta


class LayerNorm(nn.Module):
    """Normalize each sample (each token) over its last dims; torch's LayerNorm."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        check_positive(**{f"normalized_shape[{i}]": s for i, s in enumerate(shape)})
        self.normalized_shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def stats(self, x: Float[Tensor, "*B D"]) -> tuple[Tensor, Tensor]:
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)  # (B, N, D) -> (B, N, 1)
        var = x.var(dim=dims, keepdim=True, unbiased=False)
        return mean, var

    def forward(self, x: Tensor) -> Float[Tensor, "*B D"]:
        _check_last_dims(x, self.normalized_shape, "LayerNorm")
        mean, var = self.stats(x)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class GroupNorm(nn.Module):
    """Split the channels into groups; normalize each sample's group; torch's GroupNorm.

    ``num_groups=1`` is LayerNorm over (C, H, W); ``num_groups=C`` is InstanceNorm.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        check_positive(num_groups=num_groups, num_channels=num_channels)
        if num_channels % num_groups:
            raise ValueError(f"num_channels must be divisible by num_groups: got {num_channels} and {num_groups}")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.weight = nn.Parameter(torch.ones(num_channels))  # one gamma per channel, not per group
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def stats(self, x: Float[Tensor, "B C *S"]) -> tuple[Tensor, Tensor]:
        groups = x.reshape(x.shape[0], self.num_groups, -1)  # (B, C, H, W) -> (B, G, C/G*H*W)
        mean = groups.mean(dim=-1, keepdim=True)  # -> (B, G, 1)
        var = groups.var(dim=-1, keepdim=True, unbiased=False)
        return mean, var

    def forward(self, x: Tensor) -> Float[Tensor, "B C *S"]:
        _check_channels(x, self.num_channels, "GroupNorm")
        mean, var = self.stats(x)
        groups = x.reshape(x.shape[0], self.num_groups, -1)  # (B, C, H, W) -> (B, G, C/G*H*W)
        x_hat = ((groups - mean) / torch.sqrt(var + self.eps)).reshape(x.shape)  # -> (B, C, H, W)
        shape = (1, self.num_channels) + (1,) * (x.ndim - 2)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)


class RMSNorm(nn.Module):
    """Divide by the root mean square over the last dims; no centring, no bias; torch's RMSNorm.

    ``eps=None`` uses the machine epsilon of the input's dtype, as torch does.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float | None = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        check_positive(**{f"normalized_shape[{i}]": s for i, s in enumerate(shape)})
        self.normalized_shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))

    def stats(self, x: Float[Tensor, "*B D"]) -> Tensor:
        dims = tuple(range(-len(self.normalized_shape), 0))
        return x.pow(2).mean(dim=dims, keepdim=True)  # mean square, (B, N, D) -> (B, N, 1)

    def forward(self, x: Tensor) -> Float[Tensor, "*B D"]:
        _check_last_dims(x, self.normalized_shape, "RMSNorm")
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        return x * torch.rsqrt(self.stats(x) + eps) * self.weight  # x / RMS(x) * gamma


def make_norm(kind: str, width: int) -> nn.Module:
    """A normalization for (B, width) features by name: none, batch, layer or rms."""
    norms = {"none": nn.Identity, "batch": BatchNorm, "layer": LayerNorm, "rms": RMSNorm}
    if kind not in norms:
        raise ValueError(f"norm must be one of {sorted(norms)}; got {kind!r}")
    return norms[kind](width) if kind != "none" else nn.Identity()


class DeepMLP(nn.Module):
    """``depth`` hidden layers Linear -> norm -> ReLU, then a linear classifier.

    The page trains it with and without normalization; everything else is equal.
    """

    def __init__(self, in_features: int, width: int, depth: int, num_classes: int, norm: str = "none") -> None:
        super().__init__()
        check_positive(in_features=in_features, width=width, depth=depth, num_classes=num_classes)
        self.in_features = in_features
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(in_features if i == 0 else width, width), make_norm(norm, width), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"DeepMLP expects (B, {self.in_features}); got shape {tuple(x.shape)}")
        return self.head(self.body(x))  # (B, F) -> (B, D) -> (B, K)


class ResidualBlock(nn.Module):
    """A transformer-style feed-forward residual block with its LayerNorm before or after.

    post-norm (the 2017 Transformer): x <- LN(x + MLP(x))
    pre-norm (GPT-2 and most models since): x <- x + MLP(LN(x))
    """

    def __init__(self, width: int, placement: str) -> None:
        super().__init__()
        if placement not in ("pre", "post"):
            raise ValueError(f"placement must be 'pre' or 'post'; got {placement!r}")
        self.placement = placement
        self.norm = LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: Float[Tensor, "B D"]) -> Float[Tensor, "B D"]:
        if self.placement == "pre":
            return x + self.mlp(self.norm(x))  # the shortcut carries x untouched
        return self.norm(x + self.mlp(x))  # every block renormalizes the shortcut too


class ResidualStack(nn.Module):
    """Embed, ``depth`` residual blocks, (a final LayerNorm for pre-norm), classify."""

    def __init__(self, in_features: int, width: int, depth: int, num_classes: int, placement: str) -> None:
        super().__init__()
        check_positive(in_features=in_features, width=width, depth=depth, num_classes=num_classes)
        self.in_features = in_features
        self.embed = nn.Linear(in_features, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width, placement) for _ in range(depth)])
        # pre-norm leaves the stream unnormalized, so pre-norm models end with one more LN
        self.final_norm = LayerNorm(width) if placement == "pre" else nn.Identity()
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"ResidualStack expects (B, {self.in_features}); got shape {tuple(x.shape)}")
        return self.head(self.final_norm(self.blocks(self.embed(x))))  # (B, F) -> (B, D) -> (B, K)
