"""timm MetaFormer PoolFormer (``timm.models.metaformer.MetaFormer``, ``poolformer_*``)
-> ``refmodels.vision.poolformer.MetaFormer``."""

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.poolformer import MetaFormer, MetaFormerConfig

# timm name (regex) -> refmodels name. timm keeps the MLP in ``mlp`` and the residual
# scales in ``layer_scaleN.scale``; the head holds the final norm and the classifier.
RULES = [
    (r"stem\.conv\.(.+)", r"stem.\1"),
    (r"stages\.(\d)\.downsample\.conv\.(.+)", r"stages.\1.downsample.\2"),
    (r"stages\.(\d)\.blocks\.(\d+)\.(norm\d)\.(.+)", r"stages.\1.blocks.\2.\3.\4"),
    (r"stages\.(\d)\.blocks\.(\d+)\.layer_scale(\d)\.scale", r"stages.\1.blocks.\2.scale\3"),
    (r"stages\.(\d)\.blocks\.(\d+)\.mlp\.(fc\d)\.(.+)", r"stages.\1.blocks.\2.\3.\4"),
    (r"head\.(norm|fc)\.(.+)", r"\1.\2"),
]


def config_from_timm(model: nn.Module) -> MetaFormerConfig:
    """Read the architecture off a timm PoolFormer (v1); refuse other MetaFormers."""
    block = model.stages[0].blocks[0]
    if type(block.token_mixer).__name__ != "Pooling" or not isinstance(block.norm1, nn.GroupNorm):
        raise ValueError("only PoolFormer v1 (pooling mixer, GroupNorm) is supported; got "
                         f"{type(block.token_mixer).__name__} with {type(block.norm1).__name__}")
    if not isinstance(block.res_scale1, nn.Identity) or not isinstance(model.head.fc, nn.Linear):
        raise ValueError("res-scale MetaFormers and MLP heads (PoolFormerV2, ConvFormer, CAFormer) are not supported")
    if not isinstance(model.stem.norm, nn.Identity):
        raise ValueError("a normalised stem (MetaFormer baselines) is not supported")
    return MetaFormerConfig(
        depths=tuple(len(s.blocks) for s in model.stages),
        dims=tuple(s.blocks[0].mlp.fc2.out_channels for s in model.stages),
        mixer="pooling",
        pool_size=block.token_mixer.pool.kernel_size,
        mlp_ratio=block.mlp.fc1.out_channels // block.mlp.fc1.in_channels,
        num_classes=model.head.fc.out_features,
        in_chans=model.stem.conv.in_channels,
    )


def convert(model: nn.Module) -> MetaFormer:
    return load_mapped(MetaFormer(config_from_timm(model)), model.state_dict(), RULES)
