"""Trace a model: one row per module call with shapes, parameters and cost.

``trace(model, *inputs)`` runs one forward pass with hooks on every module and
returns a :class:`Trace`: the rows in the order the modules ran, each with the
module's qualified name, type, input and output shapes, parameter count and cost.

Two units of cost, never mixed up:

* **MACs** (multiply-accumulates, also called multiply-adds): one ``a * b + c``.
  A ``(M, K) @ (K, N)`` product costs ``M * K * N`` MACs.
* **FLOPs**: floating-point operations, counting the multiply and the add
  separately, so ``FLOPs = 2 * MACs``.

Papers use both and often call either one "FLOPs": ResNet's Table 1 says
"FLOPs" and reports multiply-adds (3.8e9 for ResNet-50); most transformer papers
report real FLOPs. Every table here names its column.

Cost is counted with :class:`torch.utils.flop_counter.FlopCounterMode`, which sees
the matrix products and convolutions (``mm``, ``addmm``, ``bmm``, ``convolution``,
fused attention, including the CPU kernel torch's own table leaves out...). Elementwise work (activations, normalization, the residual
add, pooling) is not counted, which is also the papers' convention. Because it
works from shapes alone, tracing runs on the ``meta`` device: a model built with
``torch.device("meta")`` has parameters with shapes and no memory, so a
billion-parameter model can be counted on a laptop.

>>> import torch
>>> layer = torch.nn.Linear(4, 3)
>>> t = trace(layer, torch.zeros(2, 4))
>>> t.total_params, t.total_macs, t.total_flops
(15, 24, 48)
>>> t.rows[0].output_shapes
((2, 3),)
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

__all__ = ["Trace", "TraceRow", "trace"]

Shape = tuple[int, ...]


def _sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """The two attention matmuls, QK^T and AV, as torch counts them for the GPU kernels."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


# torch's FlopCounterMode has formulas for the CUDA attention kernels but not for the
# one F.scaled_dot_product_attention runs on CPU, which it would count as zero.
_EXTRA_FORMULAS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_flops}


@dataclass(frozen=True)
class TraceRow:
    """One module call. ``params`` and ``macs`` include the module's children."""

    name: str  # qualified name, as in model.named_modules(); "" is the model itself
    type: str
    depth: int  # 0 for the model, 1 for its children, ...
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    params: int
    macs: int

    @property
    def flops(self) -> int:
        return 2 * self.macs


def _shapes(obj: Any) -> tuple[Shape, ...]:
    """Shapes of every tensor inside ``obj`` (tensors, sequences, dicts, dataclasses)."""
    if isinstance(obj, torch.Tensor):
        return (tuple(obj.shape),)
    if isinstance(obj, (list, tuple)):
        return tuple(s for item in obj for s in _shapes(item))
    if isinstance(obj, dict):
        return tuple(s for item in obj.values() for s in _shapes(item))
    if hasattr(obj, "__dataclass_fields__"):
        return tuple(s for f in obj.__dataclass_fields__ for s in _shapes(getattr(obj, f)))
    return ()


def _fmt_shapes(shapes: tuple[Shape, ...]) -> str:
    return ", ".join("(" + ", ".join(map(str, s)) + ")" for s in shapes)


def _fmt_count(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


@dataclass(frozen=True)
class Trace:
    """The rows of one traced forward pass, plus totals and renderers."""

    rows: tuple[TraceRow, ...]

    @property
    def total_params(self) -> int:
        return self.rows[0].params

    @property
    def total_macs(self) -> int:
        return self.rows[0].macs

    @property
    def total_flops(self) -> int:
        return 2 * self.total_macs

    def __getitem__(self, name: str) -> TraceRow:
        """The first call of the module with qualified name ``name``."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no module named {name!r} ran in this trace")

    def __len__(self) -> int:
        return len(self.rows)

    def upto(self, depth: int) -> "Trace":
        """Only the rows at most ``depth`` levels below the model (totals unchanged)."""
        return replace(self, rows=tuple(r for r in self.rows if r.depth <= depth))

    def select(self, names: Iterable[str]) -> "Trace":
        """The model row plus the first call of each named module, in ``names`` order."""
        return replace(self, rows=(self.rows[0], *(self[n] for n in names)))

    def _table(self) -> tuple[list[str], list[list[str]]]:
        header = ["module", "type", "input shape", "output shape", "params", "MACs", "FLOPs"]
        body = [
            [
                ("  " * r.depth + (r.name.rsplit(".", 1)[-1] if r.name else "(model)")),
                r.type,
                _fmt_shapes(r.input_shapes),
                _fmt_shapes(r.output_shapes),
                f"{r.params:,}",
                _fmt_count(r.macs),
                _fmt_count(r.flops),
            ]
            for r in self.rows
        ]
        return header, body

    def __str__(self) -> str:
        header, body = self._table()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        numeric = {4, 5, 6}

        def fmt(line: list[str]) -> str:
            return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths)))

        rule = "-" * len(fmt(header))
        lines = [fmt(header), rule, *map(fmt, body), rule]
        lines.append(
            f"total: {self.total_params:,} parameters, {_fmt_count(self.total_macs)} MACs"
            f" = {_fmt_count(self.total_flops)} FLOPs (FLOPs = 2 x MACs)"
        )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header, body = self._table()
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        rows = "".join(
            "<tr>"
            + "".join(
                f'<td style="text-align:{"right" if i >= 4 else "left"};white-space:pre">{esc(c)}</td>'
                for i, c in enumerate(line)
            )
            + "</tr>"
            for line in body
        )
        foot = (
            f"<p>total: {self.total_params:,} parameters, {_fmt_count(self.total_macs)} MACs"
            f" = {_fmt_count(self.total_flops)} FLOPs (FLOPs = 2 &times; MACs; matrix products"
            " and convolutions only)</p>"
        )
        return f'<table class="refmodels-trace"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{foot}'


def _device_of(model: nn.Module) -> torch.device:
    for tensor in [*model.parameters(), *model.buffers()]:
        return tensor.device
    return torch.device("cpu")


def _as_input(x: Any, device: torch.device) -> Any:
    """Move tensors to the model's device; turn a bare shape into an empty tensor."""
    if isinstance(x, torch.Tensor):
        return x.to(device) if device.type == "meta" else x
    if isinstance(x, (tuple, list, torch.Size)) and len(x) and all(isinstance(d, int) for d in x):
        return torch.zeros(tuple(x), device=device)
    return x


def trace(model: nn.Module, *inputs: Any, **kwargs: Any) -> Trace:
    """Run ``model(*inputs, **kwargs)`` once and record every module call.

    An input may be a tensor or a shape such as ``(1, 3, 224, 224)`` (a zero tensor
    of that shape is made on the model's device). On a ``meta`` model, tensors are
    moved to ``meta`` too, so nothing is computed and no memory is used.
    """
    device = _device_of(model)
    inputs = tuple(_as_input(x, device) for x in inputs)
    names = {module: name for name, module in model.named_modules()}
    params = {module: sum(p.numel() for p in module.parameters()) for module in names}
    started: list[tuple[nn.Module, int, tuple[Shape, ...]]] = []  # call stack
    rows: list[TraceRow | None] = []
    slots: list[int] = []  # index in rows of each open call, so rows keep call order
    counter = FlopCounterMode(display=False, custom_mapping=_EXTRA_FORMULAS)

    def pre_hook(module: nn.Module, args: tuple, kw: dict) -> None:
        started.append((module, counter.get_total_flops(), _shapes((args, kw))))
        slots.append(len(rows))
        rows.append(None)

    def post_hook(module: nn.Module, args: tuple, kw: dict, output: Any) -> None:
        _, flops_before, in_shapes = started.pop()
        name = names[module]
        rows[slots.pop()] = TraceRow(
            name=name,
            type=type(module).__name__,
            depth=0 if name == "" else name.count(".") + 1,
            input_shapes=in_shapes,
            output_shapes=_shapes(output),
            params=params[module],
            macs=(counter.get_total_flops() - flops_before) // 2,
        )

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
        handles.append(module.register_forward_hook(post_hook, with_kwargs=True))
    try:
        with torch.no_grad(), counter:
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return Trace(rows=tuple(r for r in rows if r is not None))
