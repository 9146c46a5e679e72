"""``from_torchvision(model)``: a torchvision model in, the refmodels model with the same weights out.

With internet, real pretrained weights come through torchvision's download::

    import torchvision, refmodels
    ours = refmodels.from_torchvision(torchvision.models.alexnet(weights="IMAGENET1K_V1"))

Offline (the docs build, the tests) the same function is used on randomly
initialised torchvision models, which proves the mapping without any download.
"""

import importlib

import torch.nn as nn

__all__ = ["from_torchvision"]

# torchvision model class (module.qualname) -> the refmodels module whose convert() takes it.
CONVERTERS = {
    "torchvision.models.alexnet.AlexNet": "refmodels.convert.torchvision_alexnet",
}


def from_torchvision(model: nn.Module) -> nn.Module:
    """Build the matching refmodels model and load ``model``'s weights into it.

    Every tensor is mapped by name and its shape checked; the returned model is in
    the same train/eval mode as ``model``.
    """
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    if kind not in CONVERTERS:
        raise ValueError(f"no converter for torchvision model class {kind}; supported: {', '.join(sorted(CONVERTERS))}")
    ours = importlib.import_module(CONVERTERS[kind]).convert(model)
    return ours.train(model.training)
