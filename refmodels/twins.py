"""Production twins: one table of which library model each refmodels family is checked against.

Each :class:`Twin` row names a small refmodels preset, how to build its production
twin at random initialisation (timm, torchvision or ``torch.nn``), the converter that
copies the twin's weights into a refmodels model, and an example input. :func:`run_twin`
then does what every parity test does (:mod:`refmodels.parity`): randomise the twin's
constant tensors (timm's zero-init gammas, 1e-5 layer scales, BatchNorm statistics),
convert, check that the converted model is the preset (same configuration, same tensor
names and shapes), compare the outputs, and scramble one inner weight to show the
comparison can fail. The model index (``docs/models.md``), ``refmodels compare NAME``
and ``tests/test_twins.py`` all read this one table.

>>> [t.key for t in TWINS][:3]
['resnet_tiny', 'convnext_tiny', 'poolformer_tiny']
>>> twin_for("resnet50").key   # full-size presets are represented by their family's row
'resnet_tiny'
>>> twin_for("lenet5") is None
True
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from refmodels.parity import ParityReport, check_parity, randomize_constants_
from refmodels.registry import create_model, list_models

__all__ = ["TWINS", "Twin", "production_twin", "rows_for", "run_twin", "twin_for"]


@dataclass(frozen=True)
class Twin:
    """One row of the table: a refmodels preset and its production twin."""

    name: str  # the refmodels preset compared
    family: str  # registry name prefix this row stands for (``resnet`` covers resnet18 ... resnet152)
    library: str  # "timm", "torchvision" or "torch"
    twin: str  # what the twin is, in the library's own words
    build: Callable[[], nn.Module]  # the production twin, random init (call under a seed)
    convert: Callable[[nn.Module], nn.Module]  # twin -> refmodels model with the same weights
    example: Callable[[], tuple]  # example input(s), positional
    atol: float = 1e-5  # float32 on the same kernels: differences are rounding (often exactly 0)
    overrides: dict = field(default_factory=dict)  # config fields the twin's library cannot match
    module: str = ""  # the part of the preset compared ("" = the whole model)
    scramble: bool | str = True  # the weight the can-fail proof scrambles (True: a middle one)
    call_twin: Callable[[nn.Module], Callable] | None = None  # adapter: how to call the twin
    converter: str = ""  # the converter's name, for the index
    small: bool = True  # cheap enough to run while the docs build (the model index runs these)

    @property
    def key(self) -> str:
        """``name``, or ``name:module`` when only a part of the preset is compared."""
        return f"{self.name}:{self.module}" if self.module else self.name


# -- builders (imports stay inside, so `import refmodels.twins` needs no timm) --------

def _timm_resnet_tiny() -> nn.Module:
    from timm.models.resnet import Bottleneck, ResNet

    return ResNet(block=Bottleneck, layers=(1, 1, 1, 1), channels=(8, 16, 32, 64), num_classes=10)


def _timm(name: str, **kwargs: Any) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import timm

        return timm.create_model(name, pretrained=False, **kwargs)

    return build


def _timm_convnext_small_config() -> nn.Module:
    from timm.models.convnext import ConvNeXt

    return ConvNeXt(depths=(1, 1, 2, 1), dims=(16, 32, 64, 128), num_classes=10)


def _timm_poolformer_tiny() -> nn.Module:
    from timm.models.metaformer import GroupNorm1, MetaFormer

    # timm's poolformer_s12 settings (PoolFormer v1), at the tiny preset's depths and widths
    return MetaFormer(depths=(1, 1, 1, 1), dims=(16, 32, 32, 64), downsample_norm=None, mlp_act=nn.GELU,
                      mlp_bias=True, norm_layers=GroupNorm1, layer_scale_init_values=1e-5,
                      res_scale_init_values=None, use_mlp_head=False, num_classes=10)


def _timm_vit_tiny() -> nn.Module:
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=10)


def _torchvision_alexnet() -> nn.Module:
    import torchvision

    return torchvision.models.alexnet()


def _from_timm(model: nn.Module) -> nn.Module:
    from refmodels.convert.timm import from_timm

    return from_timm(model)


def _from_torchvision(model: nn.Module) -> nn.Module:
    from refmodels.convert.torchvision import from_torchvision

    return from_torchvision(model)


def _from_torch_lstm(model: nn.Module) -> nn.Module:
    from refmodels.convert.torch_lstm import from_torch_lstm

    return from_torch_lstm(model)


def _encoder_layer(model: nn.Module) -> nn.Module:
    from refmodels.convert.torch_nn import encoder_layer_from_torch

    return encoder_layer_from_torch(model)


def _decoder_layer(model: nn.Module) -> nn.Module:
    from refmodels.convert.torch_nn import decoder_layer_from_torch

    return decoder_layer_from_torch(model)


def _image(size: int) -> Callable[[], tuple]:
    return lambda: (torch.randn(2, 3, size, size),)


def _decoder_inputs() -> tuple:
    from refmodels.nlp.attention import causal_mask

    return torch.randn(2, 5, 32), torch.randn(2, 7, 32), causal_mask(5)


def _torch_decoder_call(theirs: nn.Module) -> Callable:
    # torch's masks say True = blocked; refmodels' say True = may attend
    return lambda y, memory, mask: theirs(y, memory, tgt_mask=~mask)


#: The table: one row per production twin, read by the model index, ``refmodels compare``
#: and the tests.
TWINS: tuple[Twin, ...] = (
    # timm's 7x7 stem is always 64 wide (stem_width only sizes its deep stems)
    Twin("resnet_tiny", "resnet", "timm",
         twin="timm.models.resnet.ResNet(Bottleneck, layers=(1, 1, 1, 1), channels=(8, 16, 32, 64))",
         build=_timm_resnet_tiny, convert=_from_timm, example=_image(64),
         overrides={"stem_width": 64}, converter="refmodels.from_timm"),
    # the family's test preset is the real ConvNeXt-T (28.6 M parameters); timm's class
    # builds any depth and width, so the build-time row compares a narrow one
    Twin("convnext_tiny", "convnext", "timm",
         twin="timm.models.convnext.ConvNeXt(depths=(1, 1, 2, 1), dims=(16, 32, 64, 128))",
         build=_timm_convnext_small_config, convert=_from_timm, example=_image(32),
         overrides={"depths": (1, 1, 2, 1), "dims": (16, 32, 64, 128), "num_classes": 10},
         converter="refmodels.from_timm"),
    # head_dim sizes only the attention mixer, which a PoolFormer does not use; timm leaves it at 32
    Twin("poolformer_tiny", "poolformer", "timm",
         twin="timm.models.metaformer.MetaFormer (poolformer_s12 settings, tiny widths)",
         build=_timm_poolformer_tiny, convert=_from_timm, example=_image(64),
         overrides={"head_dim": 32}, converter="refmodels.from_timm"),
    # timm's FastViT attention has a fixed head width of 32, so the preset is compared at head_dim=32
    Twin("fastvit_tiny", "fastvit", "timm",
         twin='timm.create_model("fastvit_sa12", layers=(1, 1, 1, 1), embed_dims=(8, 16, 16, 32), ...)',
         build=_timm("fastvit_sa12", layers=(1, 1, 1, 1), embed_dims=(8, 16, 16, 32), mlp_ratios=(2, 2, 2, 2),
                     num_classes=10),
         convert=_from_timm, example=_image(64), overrides={"head_dim": 32}, converter="refmodels.from_timm"),
    # EfficientViT's logits barely move at random init (ReLU linear attention averages over
    # all tokens): the can-fail proof scrambles a linear attention's q/k/v projection
    Twin("efficientvit_tiny", "efficientvit", "timm",
         twin='timm.create_model("efficientvit_b0", widths=(8, 16, 32, 32, 64), depths=(1, 1, 1, 1, 1), '
              'head_widths=(64, 64))',
         build=_timm("efficientvit_b0", widths=(8, 16, 32, 32, 64), depths=(1, 1, 1, 1, 1), head_widths=(64, 64),
                     num_classes=10),
         convert=_from_timm, example=_image(64), scramble="stages.2.1.context.qkv.weight",
         converter="refmodels.from_timm"),
    Twin("vit_tiny", "vit", "timm",
         twin="timm.models.vision_transformer.VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=2)",
         build=_timm_vit_tiny, convert=_from_timm, example=_image(32), converter="refmodels.from_timm"),
    # torchvision builds AlexNet at one width only: the full preset, on small images
    Twin("alexnet", "alexnet", "torchvision", twin="torchvision.models.alexnet()",
         build=_torchvision_alexnet, convert=_from_torchvision, example=_image(64),
         scramble="classifier.fc6.weight", converter="refmodels.from_torchvision", small=False),
    Twin("lstm_tiny", "lstm", "torch", twin="torch.nn.LSTM(4, 8, num_layers=2, batch_first=True)",
         build=lambda: nn.LSTM(4, 8, num_layers=2, batch_first=True), convert=_from_torch_lstm,
         example=lambda: (torch.randn(2, 6, 4),), module="encoder",
         converter="refmodels.convert.torch_lstm.from_torch_lstm"),
    Twin("transformer_tiny", "transformer", "torch",
         twin="torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)",
         build=lambda: nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True),
         convert=_encoder_layer, example=lambda: (torch.randn(2, 7, 32),), module="encoder.0",
         converter="refmodels.convert.torch_nn.encoder_layer_from_torch"),
    Twin("transformer_tiny", "transformer", "torch",
         twin="torch.nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, batch_first=True)",
         build=lambda: nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, batch_first=True),
         convert=_decoder_layer, example=_decoder_inputs, module="decoder.0", call_twin=_torch_decoder_call,
         converter="refmodels.convert.torch_nn.decoder_layer_from_torch"),
)


def _family(name: str) -> str | None:
    from refmodels.registry import FAMILIES

    matches = [prefix for prefix in FAMILIES if name.startswith(prefix)]
    return max(matches, key=len) if matches else None


def twin_for(name: str) -> Twin | None:
    """The first row for ``name``'s family (the row's own preset, or the family's small
    preset that stands for it), or None when the family has no production twin."""
    family = _family(name)
    rows = [t for t in TWINS if t.name == name] or [t for t in TWINS if t.family == family]
    return rows[0] if rows else None


def production_twin(name: str) -> str | None:
    """The production model ``name`` corresponds to, in the library's words, or None.

    A row's own preset names its twin; another preset of a timm family names the timm
    model of the same name when timm has one (``timm.create_model("resnet50")``); a
    preset of a ``torch.nn`` family names the torch classes, which exist at any size.
    """
    row = twin_for(name)
    if row is None:
        return None
    if row.library == "timm":
        import timm

        if timm.is_model(name):
            return f'timm.create_model("{name}")'
    if row.name == name:
        return "; ".join(t.twin for t in TWINS if t.name == name)
    if row.library == "timm":
        return None
    if row.library == "torch":
        return "; ".join(t.twin.split("(")[0] for t in TWINS if t.family == row.family)
    return None


def rows_for(name: str) -> tuple[list[Twin], str | None]:
    """The rows that compare ``name`` and a note on what they compare.

    The table's own rows for a small preset (unless they change its config and timm has
    the preset itself); for a preset of a timm family with a timm namesake, a row built on
    the spot (``timm.create_model(name)`` at timm's default input size, the family row's
    tolerance and scrambled weight); otherwise the family's rows, with a note that they
    check the converter, not this preset. ``([], reason)`` when the family has no
    production twin.
    """
    if name not in list_models():
        create_model(name)  # raises the registry's ValueError, with close matches
    own = [t for t in TWINS if t.name == name]
    if own and not any(t.overrides for t in own):
        return own, None
    family = _family(name)
    rows = [t for t in TWINS if t.family == family]
    if not rows:
        known = ", ".join(sorted({t.family for t in TWINS}))
        return [], f"{name} has no production twin (families with one: {known})"
    if rows[0].library == "timm":
        import timm

        if timm.is_model(name):
            size = timm.get_pretrained_cfg(name).input_size[-1]
            row = replace(rows[0], name=name, twin=f'timm.create_model("{name}")', build=_timm(name),
                          example=lambda: (torch.randn(1, 3, size, size),), overrides={}, small=False)
            return [row], None
    if own:
        return own, None
    return rows, f"{name} has no production twin of its own size; comparing its family's converter on {rows[0].key}"


def _reference(row: Twin) -> nn.Module:
    """The preset (or its compared part) as the registry builds it, with the row's overrides."""
    model = create_model(row.name, **row.overrides)
    return model.get_submodule(row.module) if row.module else model


def _same_architecture(row: Twin, ours: nn.Module) -> None:
    reference = _reference(row)
    want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    if want != got:
        differ = sorted(set(want.items()) ^ set(got.items()))[:6]
        raise AssertionError(f"the converted twin is not {row.key}: tensors differ at {differ}")
    cfg_want, cfg_got = getattr(reference, "cfg", None), getattr(ours, "cfg", None)
    if cfg_want is not None and cfg_got is not None and cfg_want != cfg_got:
        raise AssertionError(f"the converted twin is not {row.key}: config {cfg_got} != {cfg_want}")


def run_twin(row: Twin | str, seed: int = 0, scramble_first: bool | str = False) -> ParityReport:
    """Build ``row``'s twin under ``seed``, randomise its constant tensors, convert it,
    check the result is the preset, and run :func:`refmodels.parity.check_parity`
    (outputs equal within the row's tolerance; a scrambled inner weight breaks them).

    ``row`` may be a :class:`Twin` or a preset name (the first of :func:`rows_for`). Returns the
    :class:`~refmodels.parity.ParityReport`; raises ``AssertionError`` when parity fails
    and ``ValueError`` for a name without a twin. ``scramble_first`` scrambles a weight of
    the converted model *before* the comparison, to watch it fail: a parameter name, or
    True for the one :func:`~refmodels.parity.scramble_one_` picks (a middle one).
    """
    if isinstance(row, str):
        rows, note = rows_for(row)
        if not rows:
            raise ValueError(note)
        row = rows[0]
    torch.manual_seed(seed)
    theirs = row.build().eval()
    changed = randomize_constants_(theirs, seed=seed)
    ours = row.convert(theirs).eval()
    _same_architecture(row, ours)
    if scramble_first:
        from refmodels.parity import scramble_one_

        ours = copy.deepcopy(ours)
        scramble_one_(ours, scramble_first if isinstance(scramble_first, str) else None)
    call = row.call_twin(theirs) if row.call_twin else theirs
    torch.manual_seed(seed + 1)
    inputs = row.example()
    return check_parity(ours, call, *inputs, atol=row.atol, scramble=row.scramble, randomized=len(changed))
