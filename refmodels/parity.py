"""The parity harness: proof that a refmodels model is its production twin, and proof
that the proof can fail.

Comparing two models at the production library's own initialisation can prove
nothing. timm zero-initialises the last BatchNorm scale of every ResNet block, so each
residual branch outputs zero and a comparison of logits only exercises the stem, the
shortcuts and the head; ConvNeXt, PoolFormer and FastViT start their layer scales at
1e-5 or 1e-6, the same trap at a smaller scale. So the harness

1. gives every *constant* floating tensor of the source model (all elements equal:
   BatchNorm/LayerNorm scales and biases, running statistics, layer scales, zero-init
   gammas, zero biases) fresh random values (:func:`randomize_constants_`), before the
   weights are copied into the other model;
2. runs both models on the same input and reports the largest absolute and relative
   difference of every output tensor (:func:`compare`);
3. scrambles one inner weight of a copy of our model and checks that the outputs now
   move by far more than the tolerance (:func:`check_parity`): a mapping that
   silently skipped a branch would fail here.

>>> import torch
>>> torch.manual_seed(0) and None
>>> a = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))
>>> changed = randomize_constants_(a, seed=0)
>>> changed
['1.weight', '1.bias']
>>> b = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))
>>> _ = b.load_state_dict(a.state_dict())
>>> report = check_parity(b, a, torch.randn(3, 4), atol=1e-6)
>>> report.max_abs
0.0
>>> report.scrambled_abs > 1e4 * 1e-6
True
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["ParityReport", "randomize_constants_", "max_difference", "compare", "check_parity", "scramble_one_"]

# Names whose constant tensors are offsets (drawn around 0); every other constant
# tensor is a scale or a variance (drawn in [0.5, 1.5], positive, so running_var stays valid).
_OFFSET_WORDS = ("bias", "mean", "beta", "shift", "offset")


def _is_constant(t: torch.Tensor) -> bool:
    if not t.is_floating_point() or t.numel() == 0 or t.device.type == "meta":
        return False
    flat = t.detach().reshape(-1)
    return bool((flat == flat[0]).all())


@torch.no_grad()
def randomize_constants_(model: nn.Module, seed: int = 0) -> list[str]:
    """Give every constant floating parameter and buffer of ``model`` random values, in place.

    A tensor is constant when all its elements are equal (zeros, ones, 1e-6 fills).
    Scales and variances become uniform in [0.5, 1.5]; offsets (names containing
    ``bias``, ``mean``, ``beta``...) uniform in [-0.5, 0.5]. Returns the names changed,
    in ``state_dict`` order. Random weight matrices are left as they are.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"randomize_constants_ expects an nn.Module; got {type(model).__name__}")
    gen = torch.Generator().manual_seed(seed)
    changed = []
    seen: set[int] = set()
    tensors = list(model.named_parameters(remove_duplicate=False)) + list(model.named_buffers(remove_duplicate=False))
    by_name = dict(tensors)
    for name in model.state_dict():
        t = by_name.get(name)
        if t is None or id(t) in seen or not _is_constant(t):
            continue
        seen.add(id(t))
        leaf = name.rsplit(".", 1)[-1].lower()
        noise = torch.rand(t.shape, generator=gen, dtype=torch.float64)
        if any(word in leaf for word in _OFFSET_WORDS):
            values = noise - 0.5
        else:
            values = noise + 0.5
        t.copy_(values.to(t.dtype))
        changed.append(name)
    return changed


def _tensors(out: Any) -> list[torch.Tensor]:
    """The tensors of a model output, in a fixed order (tensor, tuple, list, dict, dataclass)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, Mapping):
        return [t for key in out for t in _tensors(out[key])]
    if isinstance(out, Sequence) and not isinstance(out, str):
        return [t for item in out for t in _tensors(item)]
    if hasattr(out, "__dataclass_fields__"):
        return [t for key in out.__dataclass_fields__ for t in _tensors(getattr(out, key))]
    if hasattr(out, "to_tuple"):  # transformers' ModelOutput
        return _tensors(out.to_tuple())
    return []


def max_difference(ours: Any, theirs: Any) -> tuple[float, float]:
    """Largest absolute difference over all output tensors, and that over the largest
    magnitude of the reference (a relative difference that is not fooled by near-zero
    elements)."""
    a, b = _tensors(ours), _tensors(theirs)
    if len(a) != len(b) or not a:
        raise ValueError(f"outputs do not match: {len(a)} tensors against {len(b)}")
    worst_abs, worst_rel = 0.0, 0.0
    for x, y in zip(a, b):
        if x.shape != y.shape:
            raise ValueError(f"output shapes differ: {tuple(x.shape)} against {tuple(y.shape)}")
        diff = (x.detach().double() - y.detach().double()).abs().max().item() if x.numel() else 0.0
        scale = y.detach().double().abs().max().item() if y.numel() else 0.0
        worst_abs = max(worst_abs, diff)
        worst_rel = max(worst_rel, diff / scale if scale > 0 else diff)
    return worst_abs, worst_rel


def _run(model: nn.Module | Callable, inputs: tuple, kwargs: dict) -> Any:
    with torch.no_grad():
        return model(*inputs, **kwargs)


def compare(ours: Callable, theirs: Callable, *inputs: Any, **kwargs: Any) -> tuple[float, float]:
    """Run both on the same inputs (no grad) and return (max abs, max rel) difference."""
    return max_difference(_run(ours, inputs, kwargs), _run(theirs, inputs, kwargs))


@torch.no_grad()
def scramble_one_(model: nn.Module, name: str | None = None, seed: int = 1) -> str:
    """Replace one inner weight of ``model`` with fresh random values, in place.

    Without ``name``, the middle one of the model's weight matrices/kernels (ndim >= 2)
    is chosen: inside the network, not the stem or the head. Returns its name.
    """
    weights = [(n, p) for n, p in model.named_parameters() if p.ndim >= 2]
    if name is None:
        if not weights:
            raise ValueError(f"{type(model).__name__} has no weight with 2 or more dimensions to scramble")
        name, param = weights[len(weights) // 2]
    else:
        params = dict(model.named_parameters())
        if name not in params:
            raise ValueError(f"no parameter named {name!r}; expected one of {sorted(params)[:8]}...")
        param = params[name]
    gen = torch.Generator().manual_seed(seed)
    std = param.detach().float().std().item() if param.numel() > 1 else 1.0
    param.copy_((torch.randn(param.shape, generator=gen) * (std if std > 0 else 1.0)).to(param.dtype))
    return name


@dataclass
class ParityReport:
    """What :func:`check_parity` compared and found."""

    max_abs: float
    max_rel: float
    atol: float
    scrambled: str | None
    scrambled_abs: float | None
    randomized: int | None = None

    def __str__(self) -> str:
        lines = [f"largest difference: {self.max_abs:.2e} absolute, {self.max_rel:.2e} relative (tolerance {self.atol:g})"]
        if self.randomized is not None:
            lines.insert(0, f"constant tensors randomised before the copy: {self.randomized}")
        if self.scrambled is not None:
            lines.append(
                f"with {self.scrambled} scrambled: {self.scrambled_abs:.2e} absolute "
                f"({self.scrambled_abs / self.atol:.1e} x the tolerance)"
            )
        return "\n".join(lines)


def check_parity(
    ours: nn.Module,
    theirs: Callable,
    *inputs: Any,
    atol: float = 1e-4,
    scramble: bool | str = True,
    margin: float = 100.0,
    randomized: int | None = None,
    **kwargs: Any,
) -> ParityReport:
    """Assert that ``ours`` and ``theirs`` agree within ``atol`` on ``inputs``, and that
    scrambling one inner weight of (a copy of) ``ours`` moves the outputs by more than
    ``margin * atol``. ``scramble`` may name the parameter to scramble.

    Randomise the constants of the source model (:func:`randomize_constants_`) and copy
    its weights into the other *before* calling this; pass the count as ``randomized``
    to have it reported.
    """
    out_ours, out_theirs = _run(ours, inputs, kwargs), _run(theirs, inputs, kwargs)
    abs_diff, rel_diff = max_difference(out_ours, out_theirs)
    if not abs_diff <= atol:
        raise AssertionError(f"refmodels and the twin differ by {abs_diff:.3e} (relative {rel_diff:.3e}) > {atol:g}")
    name, moved = None, None
    if scramble:
        broken = copy.deepcopy(ours)
        name = scramble_one_(broken, scramble if isinstance(scramble, str) else None)
        moved, _ = max_difference(_run(broken, inputs, kwargs), out_theirs)
        if not moved > margin * atol:
            raise AssertionError(
                f"scrambling {name} moved the outputs by only {moved:.3e} (<= {margin:g} x {atol:g}): "
                "this comparison cannot tell a broken model from a right one"
            )
    return ParityReport(abs_diff, rel_diff, atol, name, moved, randomized)
