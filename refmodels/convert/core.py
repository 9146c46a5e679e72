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

__all__ = ["Rules", "load_mapped", "perturb_", "rename"]

#: (pattern, replacement): a replacement string with \\1 groups, or a function of the match
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


def perturb_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give a freshly initialised model per-channel weights that make every path count; in place.

    At initialisation, layer scales are 1e-5 or 1e-6 and BatchNorm is the identity
    (mean 0, variance 1, scale 1, shift 0), so a parity check on such a model barely
    tests the residual branches or the folding of BatchNorm. This sets every per-channel
    scale (norm weights, layer scales) to U(0.5, 1.5), every bias to N(0, 0.1), and
    BatchNorm's running statistics to mean N(0, 0.1) and variance U(0.5, 2). Convolution
    and linear weights keep their initialisation.
    """
    gen = torch.Generator().manual_seed(seed)

    def fill(t: torch.Tensor, low: float, high: float) -> None:
        t.copy_(torch.rand(t.shape, generator=gen) * (high - low) + low)

    with torch.no_grad():
        for name, p in model.named_parameters():
            per_channel = p.ndim == 1 or (p.ndim == 3 and p.shape[1:] == (1, 1))
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            elif per_channel:
                fill(p, 0.5, 1.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
            elif name.endswith("running_var"):
                fill(b, 0.5, 2.0)
    return model
