"""torchvision AlexNet (``torchvision.models.alexnet.AlexNet``) -> ``refmodels.vision.alexnet.AlexNet``."""

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.alexnet import AlexNet, AlexNetConfig

# torchvision numbers the layers of two nn.Sequential; refmodels names them as the paper does.
CONV_INDEX = {"0": "conv1", "3": "conv2", "6": "conv3", "8": "conv4", "10": "conv5"}
FC_INDEX = {"1": "fc6", "4": "fc7", "6": "fc8"}
RULES = [
    (r"features\.(\d+)\.(weight|bias)", lambda m: f"convs.{CONV_INDEX[m[1]]}.conv.{m[2]}"),
    (r"classifier\.(\d+)\.(weight|bias)", lambda m: f"classifier.{FC_INDEX[m[1]]}.{m[2]}"),
]


def config_from_torchvision(model: nn.Module) -> AlexNetConfig:
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    if len(convs) != 5 or len(linears) != 3:
        raise ValueError(f"expected 5 convolutions and 3 linear layers; got {len(convs)} and {len(linears)}")
    dropout = next(m.p for m in model.classifier if isinstance(m, nn.Dropout))
    return AlexNetConfig(
        widths=tuple(c.out_channels for c in convs),
        hidden=linears[0].out_features,
        num_classes=linears[-1].out_features,
        in_chans=convs[0].in_channels,
        dropout=dropout,
    )


def convert(model: nn.Module) -> AlexNet:
    return load_mapped(AlexNet(config_from_torchvision(model)), model.state_dict(), RULES)
