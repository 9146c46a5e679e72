"""timm FastViT (``timm.models.fastvit.FastVit``) -> ``refmodels.vision.fastvit.FastViT``.

Works for training-time models; a timm model already reparameterized (``reparam_conv``
everywhere) is refused, since its branches no longer exist: convert first, then call
``FastViT.reparameterize()`` on the result.
"""

import re

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.fastvit import FastViT, FastViTConfig

# timm's name pieces -> refmodels' name pieces, applied in order to every key.
SEGMENTS = [
    (".conv_kxk.0.", ".conv."),  # MobileOne's (single) kxk branch
    (".conv_scale.", ".scale."),  # its 1x1 branch
    (".identity.", ".skip."),  # its BatchNorm skip branch
    (".downsample.proj.0.large_conv.", ".downsample.lk.large."),
    (".downsample.proj.0.small_conv.", ".downsample.lk.small."),
    (".downsample.proj.1.", ".downsample.pw."),
    (".pos_emb.pos_enc.", ".pos.conv."),
    (".token_mixer.layer_scale.gamma", ".mixer.gamma"),
    (".token_mixer.norm.", ".mixer.norm."),
    (".token_mixer.mixer.", ".mixer.mixer."),
    (".token_mixer.", ".attn."),  # attention blocks
    (".layer_scale_1.gamma", ".gamma1"),
    (".layer_scale_2.gamma", ".gamma2"),
    (".layer_scale.gamma", ".gamma"),
]


def _translate(key: str) -> str:
    key = "." + key
    for old, new in SEGMENTS:
        key = key.replace(old, new)
    return re.sub(r"^\.head\.fc\.", ".fc.", key)[1:]


RULES = [(r".+", lambda m: _translate(m[0]))]


def config_from_timm(model: nn.Module) -> FastViTConfig:
    """Read the architecture off a timm FastViT; refuse the variants refmodels does not build."""
    if model.fork_feat:
        raise ValueError("fork_feat (detection feature) FastViTs are not supported")
    for name, m in model.named_modules():
        if getattr(m, "reparam_conv", None) is not None:
            raise ValueError(f"timm model is already reparameterized ({name}); convert the training-time model")
        if type(m).__name__ == "MobileOneBlock" and m.num_conv_branches > 1:
            raise ValueError(f"MobileOne blocks with {m.num_conv_branches} conv branches are not supported")
    stages = list(model.stages)
    mixers = tuple("attention" if type(s.blocks[0]).__name__ == "AttentionBlock" else "repmixer" for s in stages)
    first_mixer = next(s.blocks[0].token_mixer for s in stages if type(s.blocks[0]).__name__ == "RepMixerBlock")
    head_dims = [s.blocks[0].token_mixer.head_dim for s in stages if type(s.blocks[0]).__name__ == "AttentionBlock"]
    return FastViTConfig(
        layers=tuple(len(s.blocks) for s in stages),
        dims=tuple(s.blocks[0].mlp.fc2.out_channels for s in stages),
        mlp_ratios=tuple(s.blocks[0].mlp.fc1.out_channels // s.blocks[0].mlp.fc1.in_channels for s in stages),
        mixers=mixers,
        pos_embs=tuple(not isinstance(s.pos_emb, nn.Identity) for s in stages),
        repmixer_kernel=first_mixer.kernel_size,
        down_kernel=stages[1].downsample.proj[0].kernel_size,
        cls_ratio=model.final_conv.out_chs // model.final_conv.in_chs,
        head_dim=head_dims[0] if head_dims else 32,
        num_classes=model.head.fc.out_features,
        in_chans=model.stem[0].in_chs,
    )


def convert(model: nn.Module) -> FastViT:
    return load_mapped(FastViT(config_from_timm(model)), model.state_dict(), RULES)
