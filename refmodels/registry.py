"""A small, boring model registry.

``@register_model("name")`` records a constructor, ``create_model(name, **overrides)``
calls it, ``list_models()`` lists every name.

Families register their presets when their module is imported. ``import refmodels``
imports no family: :data:`FAMILIES` maps a name prefix to the module that defines
the presets starting with it, and the module is imported the first time one of its
names is asked for. That keeps ``import refmodels`` cheap, and it means a page (or a
gallery script) only imports, and so only depends on, the families it uses: the docs
build uses exactly that to decide which pages to re-execute when a module changes.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import TypeVar

import torch.nn as nn

__all__ = ["FAMILIES", "create_model", "list_models", "register_model"]

#: name prefix -> module that registers the presets with that prefix
FAMILIES: dict[str, str] = {
    "lstm": "refmodels.foundations.lstm",
    "mlp": "refmodels.foundations.mlp",
    "resnet": "refmodels.vision.resnet",
    "transformer": "refmodels.nlp.transformer",
    "convnext": "refmodels.vision.convnext",
    "poolformer": "refmodels.vision.poolformer",
    "fastvit": "refmodels.vision.fastvit",
    "efficientvit": "refmodels.vision.efficientvit",
    "vit": "refmodels.vision.vit",
    "alexnet": "refmodels.vision.alexnet",
    "lenet": "refmodels.vision.lenet",
}

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}

F = TypeVar("F", bound=Callable[..., nn.Module])


def register_model(name: str | None = None) -> Callable[[F], F]:
    """Register a constructor under ``name`` (default: the function's name)."""

    def decorator(fn: F) -> F:
        key = name or fn.__name__
        if key in _REGISTRY:
            raise ValueError(f"model name {key!r} is already registered by {_REGISTRY[key].__module__}")
        _REGISTRY[key] = fn
        return fn

    return decorator


def _family_of(name: str) -> str | None:
    matches = [prefix for prefix in FAMILIES if name.startswith(prefix)]
    return FAMILIES[max(matches, key=len)] if matches else None


def create_model(name: str, **overrides) -> nn.Module:
    """Build the preset ``name``; keyword arguments override fields of its config.

    >>> model = create_model("resnet18", num_classes=10)
    >>> model.fc.out_features
    10
    """
    if name not in _REGISTRY and (module := _family_of(name)) is not None:
        importlib.import_module(module)
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list_models(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}{hint} (see refmodels.list_models())")
    return _REGISTRY[name](**overrides)


def list_models(prefix: str = "") -> list[str]:
    """Every registered name starting with ``prefix``, sorted."""
    for module in FAMILIES.values():
        importlib.import_module(module)
    return sorted(n for n in _REGISTRY if n.startswith(prefix))
