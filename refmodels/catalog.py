"""The catalogue of registered models: a default input for each, its count, the paper's figures.

Used by the model index (``docs/models.md``) and by ``refmodels trace``. Nothing here is
typed per model: the default input is read off the model's config (and, for a preset
with a timm namesake, timm's own default image size), and the paper's figures are the
ones the model file records (``PAPER_GMACS`` in ``refmodels/vision/resnet.py`` ...).

>>> inputs = default_input("resnet_tiny")
>>> [tuple(x.shape) for x in inputs], inputs[0].device.type
([(1, 3, 224, 224)], 'meta')
>>> c = count("mlp_tiny")
>>> c.params, c.macs, c.error
(484, 448, None)
>>> paper_figures("resnet50")
{'gmacs': 3.8}
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

import torch
from torch import nn

from refmodels.registry import FAMILIES, create_model
from refmodels.tracing import trace

__all__ = ["IMAGE_SIZE", "SEQUENCE_LENGTH", "Count", "count", "default_input", "family_module", "make_input",
           "paper_figures"]

#: Side of the square image a vision model gets when neither its config (``img_size``)
#: nor timm's default for a model of the same name says otherwise: ImageNet's 224.
IMAGE_SIZE = 224
#: Steps (tokens) of the sequence a sequence model gets by default.
SEQUENCE_LENGTH = 32


def family_module(name: str) -> str | None:
    """The module that registers ``name`` (``"refmodels.vision.resnet"``), or None."""
    matches = [prefix for prefix in FAMILIES if name.startswith(prefix)]
    return FAMILIES[max(matches, key=len)] if matches else None


def _positional_inputs(model: nn.Module) -> int:
    """How many positional arguments ``model.forward`` requires (src and tgt: 2)."""
    params = inspect.signature(model.forward).parameters.values()
    return sum(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params)


def _image_size(name: str, cfg: object) -> int:
    if hasattr(cfg, "img_size"):
        return cfg.img_size
    try:
        import timm

        if timm.is_model(name):
            return timm.get_pretrained_cfg(name).input_size[-1]
    except (ImportError, AttributeError):
        pass
    return IMAGE_SIZE


def make_input(
    model: nn.Module, shape: tuple[int, ...], device: torch.device | str | None = None
) -> tuple[torch.Tensor, ...]:
    """Zero input(s) of ``shape`` for ``model``: token ids (``long``) for a model with a
    vocabulary, one per required positional argument; floats otherwise."""
    if not shape or any(not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(f"an input shape is a list of positive integers; got {shape!r}")
    if device is None:
        device = next((t.device for t in model.parameters()), torch.device("cpu"))
    cfg = getattr(model, "cfg", None)
    if cfg is not None and hasattr(cfg, "vocab_size"):
        return tuple(torch.zeros(shape, dtype=torch.long, device=device) for _ in range(_positional_inputs(model)))
    return (torch.zeros(shape, device=device),)


def default_input(name: str, model: nn.Module | None = None) -> tuple[torch.Tensor, ...]:
    """The input the catalogue counts ``name`` at, as zero tensors on the model's device
    (``meta`` when no model is given).

    Images: ``(1, in_chans, S, S)`` with S from the config's ``img_size``, else timm's
    default for a model of the same name, else :data:`IMAGE_SIZE`. Token models: ids of
    length :data:`SEQUENCE_LENGTH` for each positional input. Recurrent models:
    ``(1, SEQUENCE_LENGTH, input_size)``. Vectors: ``(1, in_features)``.
    """
    if model is None:
        with torch.device("meta"):
            model = create_model(name)
    cfg = getattr(model, "cfg", None)
    if cfg is None:
        raise ValueError(f"{name}: the model has no cfg to read its input shape from")
    if hasattr(cfg, "vocab_size"):
        shape: tuple[int, ...] = (1, SEQUENCE_LENGTH)
    elif hasattr(cfg, "in_chans"):
        size = _image_size(name, cfg)
        shape = (1, cfg.in_chans, size, size)
    elif hasattr(cfg, "input_size"):
        shape = (1, SEQUENCE_LENGTH, cfg.input_size)
    elif hasattr(cfg, "in_features"):
        shape = (1, cfg.in_features)
    else:
        raise ValueError(f"{name}: no default input for a config without in_chans, vocab_size, input_size "
                         "or in_features")
    return make_input(model, shape)


@dataclass(frozen=True)
class Count:
    """Parameters and multiply-accumulates of one preset at its default input."""

    name: str
    params: int  # counted on the meta device, always available
    macs: int | None  # None when the model could not be traced on meta
    input_shapes: tuple[tuple[int, ...], ...]
    error: str | None = None  # why the trace failed


def count(name: str) -> Count:
    """Build ``name`` on the meta device and trace it at :func:`default_input`.

    A model that cannot run on meta keeps its parameter count; ``error`` says why the
    trace failed and ``macs`` is None.
    """
    with torch.device("meta"):
        model = create_model(name)
    params = sum(p.numel() for p in model.parameters())
    try:
        inputs = default_input(name, model)
    except ValueError as err:
        return Count(name, params, None, (), str(err))
    shapes = tuple(tuple(x.shape) for x in inputs)
    try:
        return Count(name, params, trace(model.eval(), *inputs).total_macs, shapes)
    except Exception as err:  # noqa: BLE001 - the reason goes in the index's row
        return Count(name, params, None, shapes, f"{type(err).__name__}: {err}".splitlines()[0])


def paper_figures(name: str) -> dict[str, float]:
    """The paper's own figures for ``name`` as its model file records them, in millions of
    parameters (``params_m``) and billions of multiply-adds (``gmacs``); {} when none.

    Read from the family module's ``PAPER_GMACS`` (G multiply-adds), ``PAPER_PARAMS``
    (parameters), ``PAPER_PARAMS_M`` (M parameters) and ``PAPER`` ((M parameters,
    G multiply-adds)) tables.
    """
    module_name = family_module(name)
    if module_name is None:
        return {}
    module = importlib.import_module(module_name)
    out: dict[str, float] = {}
    pair = getattr(module, "PAPER", {}).get(name)
    if isinstance(pair, tuple) and len(pair) == 2:
        out["params_m"], out["gmacs"] = float(pair[0]), float(pair[1])
    if name in getattr(module, "PAPER_PARAMS_M", {}):
        out["params_m"] = float(getattr(module, "PAPER_PARAMS_M")[name])
    if name in getattr(module, "PAPER_PARAMS", {}):
        out["params_m"] = getattr(module, "PAPER_PARAMS")[name] / 1e6
    if name in getattr(module, "PAPER_GMACS", {}):
        out["gmacs"] = float(getattr(module, "PAPER_GMACS")[name])
    return out
