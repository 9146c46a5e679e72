"""timm ResNet (``timm.models.resnet.ResNet``) -> ``refmodels.vision.resnet.ResNet``."""

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.resnet import ResNet, ResNetConfig

# timm name (regex) -> refmodels name. timm keeps torchvision's layout: conv1/bn1 is
# the stem, layerN the stages, downsample.0/.1 the projection shortcut.
RULES = [
    (r"conv1\.(.+)", r"stem.conv.\1"),
    (r"bn1\.(.+)", r"stem.bn.\1"),
    (r"layer(\d)\.(\d+)\.(conv|bn)(\d)\.(.+)", lambda m: f"stages.{int(m[1]) - 1}.{m[2]}.{m[3]}{m[4]}.{m[5]}"),
    (r"layer(\d)\.(\d+)\.downsample\.0\.(.+)", lambda m: f"stages.{int(m[1]) - 1}.{m[2]}.shortcut.conv.{m[3]}"),
    (r"layer(\d)\.(\d+)\.downsample\.1\.(.+)", lambda m: f"stages.{int(m[1]) - 1}.{m[2]}.shortcut.bn.{m[3]}"),
    (r"fc\.(.+)", r"fc.\1"),
]


def config_from_timm(model: nn.Module) -> ResNetConfig:
    """Read the architecture off a timm ResNet; refuse the variants refmodels does not build."""
    first = model.layer1[0]
    block = "bottleneck" if hasattr(first, "conv3") else "basic"
    if not isinstance(model.conv1, nn.Conv2d):
        raise ValueError("timm ResNet with a deep stem (resnet*c/d/s variants) is not supported; expected a 7x7 conv1")
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        for blk in stage:
            if blk.conv2.groups != 1:
                raise ValueError(f"grouped 3x3 convolutions (ResNeXt) are not supported; got groups={blk.conv2.groups}")
            if blk.downsample is not None and not isinstance(blk.downsample[0], nn.Conv2d):
                raise ValueError("average-pool shortcuts (resnet*d) are not supported; expected a 1x1 conv shortcut")
            if getattr(blk, "se", None) is not None:
                raise ValueError("squeeze-and-excitation ResNets are not supported")
    widths = tuple(stage[0].conv1.out_channels for stage in (model.layer1, model.layer2, model.layer3, model.layer4))
    return ResNetConfig(
        block=block,
        layers=tuple(len(s) for s in (model.layer1, model.layer2, model.layer3, model.layer4)),
        widths=widths,
        stem_width=model.conv1.out_channels,
        num_classes=model.fc.out_features,
        in_chans=model.conv1.in_channels,
        stride_in_3x3=True,  # timm always strides the 3x3 (v1.5)
    )


def convert(model: nn.Module) -> ResNet:
    return load_mapped(ResNet(config_from_timm(model)), model.state_dict(), RULES)
