"""timm EfficientViT, MIT B-series (``timm.models.efficientvit_mit.EfficientVit``)
-> ``refmodels.vision.efficientvit.EfficientViT``."""

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.efficientvit import EfficientViT, EfficientViTConfig

# timm name (regex) -> refmodels name. timm wraps each block in a ResidualBlock (``.main``)
# and names the convs of MBConv inverted/depth/point; the head is in_conv + a classifier Sequential.
RULES = [
    (r"stem\.in_conv\.(.+)", r"stem.conv.\1"),
    (r"stem\.res(\d+)\.main\.depth_conv\.(.+)", r"stem.blocks.\1.dw.\2"),
    (r"stem\.res(\d+)\.main\.point_conv\.(.+)", r"stem.blocks.\1.pw.\2"),
    (r"stages\.(\d)\.blocks\.(\d+)\.(?:local_module\.)?main\.(inverted|depth|point)_conv\.(.+)",
     lambda m: f"stages.{m[1]}.{m[2]}.{'local.' if 'local_module' in m[0] else ''}"
               f"{dict(inverted='expand', depth='dw', point='project')[m[3]]}.{m[4]}"),
    (r"stages\.(\d)\.blocks\.(\d+)\.context_module\.main\.qkv\.conv\.(.+)", r"stages.\1.\2.context.qkv.\3"),
    (r"stages\.(\d)\.blocks\.(\d+)\.context_module\.main\.aggreg\.(.+)", r"stages.\1.\2.context.multiscale.\3"),
    (r"stages\.(\d)\.blocks\.(\d+)\.context_module\.main\.proj\.(.+)", r"stages.\1.\2.context.proj.\3"),
    (r"head\.in_conv\.(.+)", r"head_conv.\1"),
    (r"head\.classifier\.0\.(.+)", r"fc1.\1"),
    (r"head\.classifier\.1\.(.+)", r"norm.\1"),
    (r"head\.classifier\.4\.(.+)", r"fc2.\1"),
]


def config_from_timm(model: nn.Module) -> EfficientViTConfig:
    """Read the architecture off a timm EfficientViT B-series model."""
    stages = list(model.stages)
    vit_block = stages[2].blocks[1].context_module.main
    head = model.head
    return EfficientViTConfig(
        widths=(model.stem.in_conv.conv.out_channels,) + tuple(s.blocks[0].main.point_conv.conv.out_channels for s in stages),
        depths=(len(model.stem) - 1, len(stages[0].blocks), len(stages[1].blocks),
                len(stages[2].blocks) - 1, len(stages[3].blocks) - 1),
        head_dim=vit_block.dim,
        expand_ratio=stages[0].blocks[0].main.inverted_conv.conv.out_channels // stages[0].blocks[0].main.inverted_conv.conv.in_channels,
        scales=tuple(op[0].kernel_size[0] for op in vit_block.aggreg),
        head_widths=(head.in_conv.conv.out_channels, head.classifier[0].out_features),
        num_classes=head.classifier[4].out_features,
        in_chans=model.stem.in_conv.conv.in_channels,
    )


def convert(model: nn.Module) -> EfficientViT:
    return load_mapped(EfficientViT(config_from_timm(model)), model.state_dict(), RULES)
