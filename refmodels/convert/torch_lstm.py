"""``torch.nn.LSTM`` / ``torch.nn.RNN`` weights -> ``refmodels.foundations.lstm``.

torch keeps the four LSTM gates of layer k stacked in one tensor per kind:
``weight_ih_l{k}`` (4H, I), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}`` and
``bias_hh_l{k}`` (4H,), in the order input gate, forget gate, cell candidate, output
gate (i, f, g, o). refmodels writes each gate as its own pair of linear maps, so the
stack is first cut into four (``split_gates``), then renamed by the table below and
loaded with every shape checked (``refmodels.convert.core.load_mapped``).
"""

import torch
import torch.nn as nn

from refmodels.convert.core import load_mapped
from refmodels.foundations.lstm import LSTM, RNN

__all__ = ["LSTM_RULES", "RNN_RULES", "TORCH_GATE_ORDER", "from_torch_lstm", "from_torch_rnn", "split_gates"]

#: torch's order of the four chunks of a stacked LSTM tensor -> refmodels' gate names
TORCH_GATE_ORDER = ("input_gate", "forget_gate", "candidate", "output_gate")

_KIND = {"weight_ih": "x.weight", "weight_hh": "h.weight", "bias_ih": "x.bias", "bias_hh": "h.bias"}

#: after split_gates: "weight_ih_l0.forget_gate" -> "layers.0.forget_gate.x.weight"
LSTM_RULES = [
    (rf"({kind})_l(\d+)\.(\w+)", lambda m: f"layers.{m[2]}.{m[3]}.{_KIND[m[1]]}") for kind in _KIND
]
#: a plain RNN has one "gate": weight_ih_l0 -> layers.0.proj.x.weight
RNN_RULES = [(rf"({kind})_l(\d+)", lambda m: f"layers.{m[2]}.proj.{_KIND[m[1]]}") for kind in _KIND]


def split_gates(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cut each stacked (4H, ...) tensor into its four gates: key -> key.<gate name>."""
    out = {}
    for key, tensor in state_dict.items():
        if tensor.shape[0] % 4:
            raise ValueError(f"{key!r}: expected 4 stacked gates along dim 0; got shape {tuple(tensor.shape)}")
        for gate, chunk in zip(TORCH_GATE_ORDER, tensor.chunk(4, dim=0)):  # (4H, ...) -> 4 x (H, ...)
            out[f"{key}.{gate}"] = chunk
    return out


def _check_supported(module: nn.Module) -> None:
    if module.bidirectional or module.proj_size or not module.bias or module.dropout:
        raise ValueError(
            "only unidirectional torch RNNs with biases, no projection and no dropout are supported; got "
            f"bidirectional={module.bidirectional}, proj_size={module.proj_size}, bias={module.bias}, "
            f"dropout={module.dropout}"
        )


def from_torch_lstm(module: nn.Module) -> LSTM:
    """A refmodels LSTM with the same shape and the same weights as ``module``."""
    if not isinstance(module, nn.LSTM):
        raise ValueError(f"expected a torch.nn.LSTM; got {type(module).__name__}")
    _check_supported(module)
    ours = LSTM(module.input_size, module.hidden_size, module.num_layers, batch_first=module.batch_first)
    return load_mapped(ours, split_gates(module.state_dict()), LSTM_RULES)


def from_torch_rnn(module: nn.Module) -> RNN:
    """A refmodels RNN with the same shape and the same weights as a tanh ``torch.nn.RNN``."""
    if not isinstance(module, nn.RNN) or module.nonlinearity != "tanh":
        raise ValueError(f"expected a torch.nn.RNN with tanh; got {module!r}")
    _check_supported(module)
    ours = RNN(module.input_size, module.hidden_size, module.num_layers, batch_first=module.batch_first)
    return load_mapped(ours, module.state_dict(), RNN_RULES)
