"""Load a production checkpoint into a refmodels model through a name-mapping table.

A table is a list of ``(pattern, replacement)`` regular-expression rules. Each key of
the source state dict is renamed by the first rule whose pattern matches the whole
key; the load then checks that every target tensor is filled exactly once and that
every shape agrees, and names each key that does not.
"""

import re
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn as nn

__all__ = ["Rules", "load_mapped", "rename"]

# (pattern, replacement): a replacement string with \\1 groups, or a function of the match
Rules = Sequence[tuple[str, str | Callable[[re.Match], str]]]


def rename(key: str, rules: Rules) -> str | None:
    r"""The refmodels name of ``key``, or None when no rule matches.

    >>> rename("layer2.0.downsample.1.weight", [(r"layer(\d)\.(\d+)\.downsample\.1\.(.+)", r"stage\1.\2.bn.\3")])
    'stage2.0.bn.weight'
    """
    for pattern, replacement in rules:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, replacement, key)
    return None


def load_mapped(target: nn.Module, source: Mapping[str, torch.Tensor], rules: Rules) -> nn.Module:
    """Copy ``source`` into ``target`` through ``rules``; raise naming every mismatch."""
    expected = target.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    problems: list[str] = []
    for key, tensor in source.items():
        new = rename(key, rules)
        if new is None:
            problems.append(f"no rule for source key {key!r}")
        elif new not in expected:
            problems.append(f"{key!r} -> {new!r}, which the refmodels model does not have")
        elif new in mapped:
            problems.append(f"{key!r} -> {new!r}, which another source key already filled")
        elif tuple(tensor.shape) != tuple(expected[new].shape):
            problems.append(f"{key!r} -> {new!r}: shape {tuple(tensor.shape)} != expected {tuple(expected[new].shape)}")
        else:
            mapped[new] = tensor
    problems += [f"refmodels tensor {k!r} has no source" for k in expected if k not in mapped]
    if problems:
        raise ValueError("checkpoint does not fit the model:\n  " + "\n  ".join(problems))
    target.load_state_dict(mapped, strict=True)
    return target
