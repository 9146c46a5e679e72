"""torch.nn attention and Transformer layers -> refmodels.nlp (same weights, checked shapes).

``torch.nn.MultiheadAttention`` keeps W^Q, W^K, W^V stacked in one ``in_proj_weight``
(3D, D) and ``in_proj_bias`` (3D,); refmodels keeps three ``nn.Linear``. The converters
split the stack, then load through a name-mapping table (``load_mapped``), which
checks every tensor's shape and names every key that does not fit.

Masks follow opposite conventions: in refmodels (and ``F.scaled_dot_product_attention``)
True means "may attend"; in ``torch.nn.MultiheadAttention`` True means "blocked".
"""

import torch
import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.nlp.attention import MultiHeadAttention
from refmodels.nlp.transformer import DecoderLayer, EncoderLayer

__all__ = ["decoder_layer_from_torch", "encoder_layer_from_torch", "mha_from_torch", "split_in_proj"]

MHA_RULES = [(r"(.*)in_proj_(q|k|v)\.(weight|bias)", r"\1\2_proj.\3"), (r"(.*)out_proj\.(weight|bias)", r"\1out_proj.\2")]
LAYER_RULES = [
    *MHA_RULES,
    (r"linear(1|2)\.(weight|bias)", r"ffn.linear\1.\2"),
    (r"norm(\d)\.(weight|bias)", r"norm\1.\2"),
]


def split_in_proj(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace every stacked ``in_proj_weight`` / ``in_proj_bias`` by its q, k, v thirds."""
    out = {}
    for key, tensor in state.items():
        prefix, sep, kind = key.rpartition("in_proj_")
        if sep and kind in ("weight", "bias"):
            for name, part in zip("qkv", tensor.chunk(3, dim=0)):  # (3D, ...) -> 3 x (D, ...)
                out[f"{prefix}in_proj_{name}.{kind}"] = part
        else:
            out[key] = tensor
    return out


def _check_mha(mha: nn.MultiheadAttention) -> None:
    if not mha.batch_first:
        raise ValueError("expected a batch_first=True torch.nn.MultiheadAttention (refmodels is batch-first)")
    if not mha._qkv_same_embed_dim or mha.bias_k is not None:
        raise ValueError("only the plain layout is supported (kdim = vdim = embed_dim, no add_bias_kv)")


def mha_from_torch(theirs: nn.MultiheadAttention, fused: bool = False) -> MultiHeadAttention:
    """A refmodels MultiHeadAttention holding the same weights as ``theirs``."""
    _check_mha(theirs)
    ours = MultiHeadAttention(theirs.embed_dim, theirs.num_heads, dropout=theirs.dropout,
                              bias=theirs.in_proj_bias is not None, fused=fused)
    load_mapped(ours, split_in_proj(theirs.state_dict()), MHA_RULES)
    return ours.train(theirs.training)


def _layer_args(theirs: nn.Module) -> dict:
    if not isinstance(theirs.activation, nn.ReLU) and theirs.activation is not torch.nn.functional.relu:
        raise ValueError(f"only ReLU feed-forward layers are supported; got {theirs.activation}")
    return dict(dim=theirs.linear1.in_features, heads=theirs.self_attn.num_heads, ffn_dim=theirs.linear1.out_features,
                dropout=theirs.dropout.p, norm_first=theirs.norm_first, eps=theirs.norm1.eps)


def encoder_layer_from_torch(theirs: nn.TransformerEncoderLayer) -> EncoderLayer:
    """``torch.nn.TransformerEncoderLayer`` (batch_first) -> refmodels ``EncoderLayer``."""
    _check_mha(theirs.self_attn)
    ours = EncoderLayer(**_layer_args(theirs))
    load_mapped(ours, split_in_proj(theirs.state_dict()), LAYER_RULES)
    return ours.train(theirs.training)


def decoder_layer_from_torch(theirs: nn.TransformerDecoderLayer) -> DecoderLayer:
    """``torch.nn.TransformerDecoderLayer`` (batch_first) -> refmodels ``DecoderLayer``.

    torch names the cross-attention ``multihead_attn``; refmodels calls it ``cross_attn``.
    """
    _check_mha(theirs.self_attn)
    _check_mha(theirs.multihead_attn)
    ours = DecoderLayer(**_layer_args(theirs))
    rules = [(r"multihead_attn\.(.+)", lambda m: "cross_attn." + _rename_mha(m[1])), *LAYER_RULES]
    load_mapped(ours, split_in_proj(theirs.state_dict()), rules)
    return ours.train(theirs.training)


def _rename_mha(key: str) -> str:
    return key.replace("in_proj_q", "q_proj").replace("in_proj_k", "k_proj").replace("in_proj_v", "v_proj")
