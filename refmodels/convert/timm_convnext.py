"""timm ConvNeXt (``timm.models.convnext.ConvNeXt``) -> ``refmodels.vision.convnext.ConvNeXt``."""

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.convnext import ConvNeXt, ConvNeXtConfig

# timm name (regex) -> refmodels name. timm wraps the block's MLP in ``mlp`` and keeps
# the stem and each downsample layer as numbered Sequentials; the head holds the final norm.
RULES = [
    (r"stem\.0\.(.+)", r"stem.conv.\1"),
    (r"stem\.1\.(.+)", r"stem.norm.\1"),
    (r"stages\.(\d)\.downsample\.0\.(.+)", r"stages.\1.downsample.norm.\2"),
    (r"stages\.(\d)\.downsample\.1\.(.+)", r"stages.\1.downsample.conv.\2"),
    (r"stages\.(\d)\.blocks\.(\d+)\.conv_dw\.(.+)", r"stages.\1.blocks.\2.dwconv.\3"),
    (r"stages\.(\d)\.blocks\.(\d+)\.mlp\.(fc\d)\.(.+)", r"stages.\1.blocks.\2.\3.\4"),
    (r"stages\.(\d)\.blocks\.(\d+)\.(norm\..+|gamma)", r"stages.\1.blocks.\2.\3"),
    (r"head\.(norm|fc)\.(.+)", r"\1.\2"),
]


def config_from_timm(model: nn.Module) -> ConvNeXtConfig:
    """Read the architecture off a timm ConvNeXt; refuse the variants refmodels does not build."""
    if not (len(model.stem) == 2 and isinstance(model.stem[0], nn.Conv2d)):
        raise ValueError("only the patchify stem (stem_type='patch') is supported")
    block = model.stages[0].blocks[0]
    if block.use_conv_mlp or block.gamma is None:
        raise ValueError("only ConvNeXt blocks with a Linear MLP and layer scale (the paper's) are supported")
    if type(block.mlp).__name__ != "Mlp":
        raise ValueError("ConvNeXt-V2 (GlobalResponseNorm MLP) is not supported")
    if not isinstance(model.norm_pre, nn.Identity) or model.head.fc.in_features != model.num_features:
        raise ValueError("only the default head (pool, LayerNorm, Linear) is supported")
    return ConvNeXtConfig(
        depths=tuple(len(s.blocks) for s in model.stages),
        dims=tuple(s.blocks[0].conv_dw.out_channels for s in model.stages),
        patch_size=model.stem[0].kernel_size[0],
        kernel_size=block.conv_dw.kernel_size[0],
        mlp_ratio=block.mlp.fc1.out_features // block.mlp.fc1.in_features,
        num_classes=model.head.fc.out_features,
        in_chans=model.stem[0].in_channels,
    )


def convert(model: nn.Module) -> ConvNeXt:
    return load_mapped(ConvNeXt(config_from_timm(model)), model.state_dict(), RULES)
