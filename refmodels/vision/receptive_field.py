"""Receptive fields of a convolutional network, computed from its layers.

A unit of a feature map sees a square of input pixels: its *receptive field*. Walking
through the layers from the input, three numbers per layer describe every unit:

* ``size`` r: the side of the receptive field, in input pixels;
* ``jump`` j: the distance, in input pixels, between two neighbouring units
  (the product of the strides so far);
* ``start``: the input coordinate of the centre of the first unit's field
  (negative when padding puts it outside the image).

A layer with kernel k, stride s, padding p and dilation d (effective kernel
k' = d (k - 1) + 1) updates them as

    r_out = r_in + (k' - 1) j_in
    j_out = j_in s
    start_out = start_in + ((k' - 1) / 2 - p) j_in

(Dumoulin and Visin 2016; Araujo et al. 2019). :func:`receptive_fields` applies the
recurrence; :func:`conv_layers` reads the layers off a model by running it once
(on the meta device, so it costs nothing); :func:`empirical_receptive_field` checks
the result the other way, by back-propagating from one output unit to the input and
measuring where the gradient is not zero.
"""

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ["Layer", "RFRow", "conv_layers", "empirical_receptive_field", "positive_twin", "receptive_fields"]


@dataclass(frozen=True)
class Layer:
    """The geometry of one sliding-window layer (a convolution or a pool), one side of it."""

    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1


@dataclass(frozen=True)
class RFRow:
    """The receptive field of the units after ``name``."""

    name: str
    size: int  # r: side of the field, input pixels
    jump: int  # j: input pixels between neighbouring units
    start: float  # centre of the first unit's field, input coordinates


def receptive_fields(layers: Sequence[Layer]) -> list[RFRow]:
    """Apply the recurrence layer by layer; one row per layer.

    >>> [r.size for r in receptive_fields([Layer("a", 3), Layer("b", 3), Layer("c", 3)])]
    [3, 5, 7]
    >>> receptive_fields([Layer("conv", 7, stride=2, padding=3), Layer("pool", 3, stride=2, padding=1)])[-1]
    RFRow(name='pool', size=11, jump=4, start=0.5)
    """
    size, jump, start = 1, 1, 0.5  # one input pixel, centred at 0.5 in pixel coordinates
    rows = []
    for layer in layers:
        k = layer.dilation * (layer.kernel - 1) + 1
        start = start + ((k - 1) / 2 - layer.padding) * jump
        size = size + (k - 1) * jump
        jump = jump * layer.stride
        rows.append(RFRow(layer.name, size, jump, start))
    return rows


def _side(value: int | tuple[int, ...]) -> int:
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"only square kernels, strides and paddings are supported; got {value}")
        return value[0]
    return value


def conv_layers(model: nn.Module, input_shape: tuple[int, ...], skip: Sequence[str] = ()) -> list[Layer]:
    """The convolutions and pools of ``model`` in the order they run on ``input_shape``.

    Modules whose name contains one of ``skip`` are left out: a residual network's
    projection shortcuts, for example, lie on a parallel path whose field is inside
    the main path's, so the main path alone gives the network's receptive field.
    Runs a copy of the model once on the meta device, so it costs nothing.

    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    >>> conv_layers(net, (1, 3, 32, 32))
    [Layer(name='0', kernel=3, stride=1, padding=1, dilation=1), Layer(name='2', kernel=2, stride=2, padding=0, dilation=1)]
    """
    meta = copy.deepcopy(model).to("meta")
    order: list[str] = []
    for name, module in meta.named_modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) and not any(s in name for s in skip):
            module.register_forward_pre_hook(lambda m, args, name=name: order.append(name))
    with torch.no_grad():
        meta(torch.empty(input_shape, device="meta"))
    modules = dict(meta.named_modules())
    layers = []
    for name in order:
        m = modules[name]
        dilation = _side(m.dilation) if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) else 1
        layers.append(Layer(name, _side(m.kernel_size), _side(m.stride), _side(m.padding), dilation))
    return layers


def empirical_receptive_field(forward: Callable[[Tensor], Tensor], input_shape: tuple[int, ...]) -> int:
    """Side of the input square that changes the centre unit of ``forward``'s output.

    ``forward`` maps (1, C, H, W) to (1, D, h, w). The gradient of the centre unit
    (summed over channels) is taken with respect to the input, in float64, and the
    extent of its non-zero entries measured. Use a network whose weights cannot cancel
    (all positive, max pools replaced by average pools): then the non-zero region is
    exactly the theoretical receptive field, unless the image border cuts it.
    """
    x = torch.rand(input_shape, dtype=torch.float64, requires_grad=True)
    out = forward(x)
    h, w = out.shape[-2] // 2, out.shape[-1] // 2
    out[0, :, h, w].sum().backward()
    support = x.grad[0].abs().sum(0) > 0  # (H, W)
    rows = torch.nonzero(support.any(1)).flatten()
    cols = torch.nonzero(support.any(0)).flatten()
    height = int(rows.max() - rows.min() + 1)
    width = int(cols.max() - cols.min() + 1)
    if height != width:
        raise ValueError(f"expected a square receptive field; measured {height}x{width}")
    return height


def positive_twin(model: nn.Module) -> nn.Module:
    """A float64 copy of ``model`` whose gradients cannot cancel: all convolution and
    linear weights positive, max pools turned into average pools of the same geometry,
    BatchNorm in evaluation mode with unit statistics. Its receptive field is the model's.
    """
    twin = copy.deepcopy(model).double().eval()
    for name, module in list(twin.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                         ceil_mode=child.ceil_mode))
    with torch.no_grad():
        for module in twin.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.uniform_(0.5, 1.0)
                if module.bias is not None:
                    module.bias.fill_(0.1)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.zero_()
                module.running_var.fill_(1.0)
                module.weight.fill_(1.0)
                module.bias.zero_()
    return twin
