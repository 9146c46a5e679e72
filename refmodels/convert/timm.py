"""``from_timm(model)``: a timm model in, the refmodels model with the same weights out.

With internet, real pretrained weights come through timm's hub download::

    import timm, refmodels
    ours = refmodels.from_timm(timm.create_model("resnet50", pretrained=True))

Offline (the docs build, the tests) the same function is used on randomly
initialised timm models, which proves the mapping without any download.
"""

import importlib

import torch.nn as nn

__all__ = ["from_timm"]

# timm model class (module.qualname) -> the refmodels module whose convert() takes it.
# Imported lazily, so converting a ResNet does not import (or depend on) other families.
CONVERTERS = {
    "timm.models.resnet.ResNet": "refmodels.convert.timm_resnet",
    "timm.models.convnext.ConvNeXt": "refmodels.convert.timm_convnext",
    "timm.models.metaformer.MetaFormer": "refmodels.convert.timm_poolformer",
    "timm.models.fastvit.FastVit": "refmodels.convert.timm_fastvit",
    "timm.models.efficientvit_mit.EfficientVit": "refmodels.convert.timm_efficientvit",
    "timm.models.vision_transformer.VisionTransformer": "refmodels.convert.timm_vit",
}


def from_timm(model: nn.Module) -> nn.Module:
    """Build the matching refmodels model and load ``model``'s weights into it.

    Every tensor is mapped by name and its shape checked; the returned model is in
    the same train/eval mode as ``model``.
    """
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    if kind not in CONVERTERS:
        raise ValueError(f"no converter for timm model class {kind}; supported: {', '.join(sorted(CONVERTERS))}")
    ours = importlib.import_module(CONVERTERS[kind]).convert(model)
    return ours.train(model.training)
