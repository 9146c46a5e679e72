"""timm ViT (``timm.models.vision_transformer.VisionTransformer``) -> ``refmodels.vision.vit.ViT``."""

import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.vision.vit import ViT, ViTConfig

# timm name (regex) -> refmodels name. The refmodels model keeps timm's module names
# (timm keeps the JAX original's structure), so the table is short: one rule per part.
RULES = [
    (r"(cls_token|pos_embed)", r"\1"),
    (r"patch_embed\.proj\.(weight|bias)", r"patch_embed.proj.\1"),
    (r"blocks\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)", r"blocks.\1.\2.\3"),
    (r"(norm|head)\.(weight|bias)", r"\1.\2"),
]


def config_from_timm(model: nn.Module) -> ViTConfig:
    """Read the architecture off a timm ViT; refuse the variants refmodels does not build."""
    from timm.layers import Mlp

    if model.cls_token is None or model.global_pool != "token":
        raise ValueError(f"only [CLS]-token ViTs are supported; got global_pool={model.global_pool!r}")
    if model.reg_token is not None or model.no_embed_class or model.pos_embed is None:
        raise ValueError("register tokens and position embeddings without a [CLS] entry are not supported")
    if not isinstance(model.norm_pre, nn.Identity) or not isinstance(model.fc_norm, nn.Identity):
        raise ValueError("pre-norm (CLIP-style) and fc_norm heads are not supported")
    if not isinstance(model.patch_embed.norm, nn.Identity):
        raise ValueError("a normalised patch embedding is not supported")
    first = model.blocks[0]
    if not isinstance(first.ls1, nn.Identity) or not isinstance(first.attn.q_norm, nn.Identity):
        raise ValueError("LayerScale and qk-norm blocks are not supported")
    if type(first.mlp) is not Mlp or not isinstance(first.mlp.act, nn.GELU) or first.mlp.act.approximate != "none":
        raise ValueError(f"only the GELU MLP is supported; got {type(first.mlp).__name__}")
    if first.attn.qkv.bias is None:
        raise ValueError("ViTs without a q/k/v bias are not supported")
    patch = model.patch_embed.patch_size
    if patch[0] != patch[1] or model.patch_embed.grid_size[0] != model.patch_embed.grid_size[1]:
        raise ValueError(f"only square patches and images are supported; got patch {patch}")
    return ViTConfig(
        img_size=model.patch_embed.grid_size[0] * patch[0],
        patch_size=patch[0],
        in_chans=model.patch_embed.proj.in_channels,
        num_classes=model.head.out_features,
        width=model.embed_dim,
        depth=len(model.blocks),
        heads=first.attn.num_heads,
        mlp_ratio=first.mlp.fc1.out_features / model.embed_dim,
        eps=first.norm1.eps,
    )


def convert(model: nn.Module) -> ViT:
    return load_mapped(ViT(config_from_timm(model)), model.state_dict(), RULES)
