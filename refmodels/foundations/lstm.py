"""The plain recurrent network and the long short-term memory (LSTM).

Papers: J. L. Elman, "Finding structure in time" (1990), the plain tanh RNN;
S. Hochreiter and J. Schmidhuber, "Long short-term memory" (1997), the cell and its
input/output gates; F. Gers, J. Schmidhuber and F. Cummins, "Learning to forget:
continual prediction with LSTM" (2000), the forget gate. Y. Bengio, P. Simard and
P. Frasconi, "Learning long-term dependencies with gradient descent is difficult"
(1994), why the plain RNN forgets. C. Tallec and Y. Ollivier, "Can recurrent neural
networks warp time?" (2018), the chrono initialisation of the gate biases.
Checked against: ``torch.nn.LSTM`` and ``torch.nn.RNN`` (tanh): same parameter count,
and the same outputs, final hidden and cell states and gradients with the same
weights, for 1 and 2 layers, batch-first or not, with or without an initial state
(``tests/test_lstm.py`` through ``refmodels.parity``, which also shows that scrambling
one inner weight breaks the comparison; the weights are copied by
``refmodels.convert.torch_lstm``).

Shapes (batch-first inside the cells, one glossary for the project)::

    B batch, T time steps, I input features per step, H hidden width, L layers,
    K classes.
    x (B, T, I) [or (T, B, I) with batch_first=False, like torch]
    one step:  x_t (B, I), h_{t-1} (B, H), c_{t-1} (B, H)
               gates i, f, o (B, H) in (0, 1); candidate g (B, H) in (-1, 1)
               c_t = f * c_{t-1} + i * g (B, H);  h_t = o * tanh(c_t) (B, H)
    output (B, T, H) = h_t of the last layer at every step; h_n, c_n (L, B, H).

Differences from the papers and from torch:
    * Each gate is written as its own pair of linear maps (``W_x x + b_x + W_h h + b_h``)
      instead of torch's four gates stacked in one (4H, I) matrix; the converter
      splits torch's stack in its order i, f, g, o. Two biases per gate, as in torch
      (the papers have one; the sum is what matters).
    * The 1997 LSTM had no forget gate (f = 1) and no peepholes here either; this is
      the "vanilla" LSTM of Gers et al. that torch implements.
    * Sequences must be batched (a 3-d tensor); torch also accepts one unbatched
      sequence (T, I). No dropout between layers, no bidirectional, no projection.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_positive
from refmodels.registry import register_model

__all__ = [
    "LSTM",
    "RNN",
    "InputHiddenLinear",
    "LSTMCell",
    "LSTMStep",
    "RNNCell",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "check_sequence",
    "chrono_init_",
    "delayed_digits",
    "gradient_through_time",
    "lstm_param_count",
    "train_classifier",
]


def check_sequence(x: Tensor, *, features: int, batch_first: bool, model: str) -> None:
    """``x`` must be a batch of sequences, (B, T, I) or (T, B, I), with I = ``features``."""
    layout = f"(B, T, {features})" if batch_first else f"(T, B, {features})"
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{model} expects a tensor {layout}; got {type(x).__name__}")
    if x.ndim != 3:
        raise ValueError(
            f"{model} expects a batch of sequences {layout}; got a {x.ndim}-d tensor of shape {tuple(x.shape)}"
        )
    if x.shape[2] != features:
        raise ValueError(f"{model} expects {features} input features {layout}; got shape {tuple(x.shape)}")


def lstm_param_count(input_size: int, hidden_size: int, num_layers: int = 1) -> int:
    """4 gates x (H (I + H) weights + 2 H biases) per layer; layers after the first read H features.

    >>> lstm_param_count(8, 64)
    18944
    """
    total = 0
    for layer in range(num_layers):
        i = input_size if layer == 0 else hidden_size
        total += 4 * (hidden_size * (i + hidden_size) + 2 * hidden_size)
    return total


class InputHiddenLinear(nn.Module):
    """The pre-activation every recurrent unit computes: W_x x_t + b_x + W_h h_{t-1} + b_h."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.x = nn.Linear(input_size, hidden_size)  # W_x (H, I), b_x (H,)
        self.h = nn.Linear(hidden_size, hidden_size)  # W_h (H, H), b_h (H,)

    def forward(self, x: Float[Tensor, "B I"], h: Float[Tensor, "B H"]) -> Float[Tensor, "B H"]:
        return self.x(x) + self.h(h)


def _uniform_init(module: nn.Module, hidden_size: int) -> None:
    # torch's RNN/LSTM initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
    bound = hidden_size**-0.5
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class RNNCell(nn.Module):
    """The plain (Elman) recurrent cell: h_t = tanh(W_x x_t + b_x + W_h h_{t-1} + b_h)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.proj = InputHiddenLinear(input_size, hidden_size)
        _uniform_init(self, hidden_size)

    def forward(self, x: Float[Tensor, "B I"], h: Float[Tensor, "B H"]) -> Float[Tensor, "B H"]:
        return torch.tanh(self.proj(x, h))  # the whole memory is squashed through tanh every step


class LSTMStep(NamedTuple):
    """Every vector one LSTM step computes, each (B, H)."""

    i: Tensor  # input gate: how much of the candidate to write
    f: Tensor  # forget gate: how much of the old cell to keep
    g: Tensor  # candidate cell content
    o: Tensor  # output gate: how much of the cell to show
    c: Tensor  # new cell state
    h: Tensor  # new hidden state


class LSTMCell(nn.Module):
    """One LSTM step, gate by gate (the equations of Gers et al. 2000, as torch.nn.LSTMCell)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input_gate = InputHiddenLinear(input_size, hidden_size)
        self.forget_gate = InputHiddenLinear(input_size, hidden_size)
        self.candidate = InputHiddenLinear(input_size, hidden_size)
        self.output_gate = InputHiddenLinear(input_size, hidden_size)
        _uniform_init(self, hidden_size)

    def step(self, x: Float[Tensor, "B I"], h: Float[Tensor, "B H"], c: Float[Tensor, "B H"]) -> LSTMStep:
        # i_t = sigmoid(W_ix x_t + b_ix + W_ih h_{t-1} + b_ih), and likewise f_t, o_t
        i = torch.sigmoid(self.input_gate(x, h))  # (B, H) in (0, 1)
        f = torch.sigmoid(self.forget_gate(x, h))  # (B, H) in (0, 1)
        o = torch.sigmoid(self.output_gate(x, h))  # (B, H) in (0, 1)
        # g_t = tanh(W_gx x_t + b_gx + W_gh h_{t-1} + b_gh): what could be written
        g = torch.tanh(self.candidate(x, h))  # (B, H) in (-1, 1)
        # c_t = f_t * c_{t-1} + i_t * g_t: the cell is updated by addition, not squashed
        c = f * c + i * g  # (B, H)
        # h_t = o_t * tanh(c_t): what the rest of the network sees
        h = o * torch.tanh(c)  # (B, H)
        return LSTMStep(i, f, g, o, c, h)

    def forward(
        self, x: Float[Tensor, "B I"], h: Float[Tensor, "B H"], c: Float[Tensor, "B H"]
    ) -> tuple[Float[Tensor, "B H"], Float[Tensor, "B H"]]:
        s = self.step(x, h, c)
        return s.h, s.c


class _Recurrent(nn.Module):
    """A stack of cells run over time; layer l reads the hidden states of layer l - 1."""

    cell_type: type[nn.Module]
    name: str

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, batch_first: bool = False) -> None:
        super().__init__()
        check_positive(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = batch_first
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(self.cell_type(i, hidden_size) for i in sizes)

    def _check_state(self, state: Tensor, x: Tensor, what: str) -> None:
        expected = (self.num_layers, x.shape[0], self.hidden_size)
        if not isinstance(state, torch.Tensor) or tuple(state.shape) != expected:
            got = tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__
            raise ValueError(f"{self.name} expects {what} of shape (L, B, H) = {expected}; got {got}")


class RNN(_Recurrent):
    """A multi-layer tanh RNN with torch.nn.RNN's interface: ``output, h_n = rnn(x, h_0)``.

    >>> out, h_n = RNN(8, 16, num_layers=2, batch_first=True)(torch.zeros(3, 5, 8))
    >>> tuple(out.shape), tuple(h_n.shape)
    ((3, 5, 16), (2, 3, 16))
    """

    cell_type = RNNCell
    name = "RNN"

    def forward(self, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_sequence(x, features=self.input_size, batch_first=self.batch_first, model=self.name)
        if not self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I) -> (B, T, I)
        B, T, _ = x.shape
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, B, self.hidden_size)
        self._check_state(h0, x, "h_0")
        h_n = []
        for layer, cell in enumerate(self.layers):
            h, outputs = h0[layer], []
            for t in range(T):
                h = cell(x[:, t], h)  # (B, I) , (B, H) -> (B, H)
                outputs.append(h)
            x = torch.stack(outputs, dim=1)  # T x (B, H) -> (B, T, H): the next layer's input
            h_n.append(h)
        return (x if self.batch_first else x.transpose(0, 1)), torch.stack(h_n)  # h_n (L, B, H)


class LSTM(_Recurrent):
    """A multi-layer LSTM with torch.nn.LSTM's interface: ``output, (h_n, c_n) = lstm(x, (h_0, c_0))``.

    >>> out, (h_n, c_n) = LSTM(8, 16, num_layers=2, batch_first=True)(torch.zeros(3, 5, 8))
    >>> tuple(out.shape), tuple(h_n.shape), tuple(c_n.shape)
    ((3, 5, 16), (2, 3, 16), (2, 3, 16))
    """

    cell_type = LSTMCell
    name = "LSTM"

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        check_sequence(x, features=self.input_size, batch_first=self.batch_first, model=self.name)
        if not self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I) -> (B, T, I)
        B, T, _ = x.shape
        if state is None:
            zeros = x.new_zeros(self.num_layers, B, self.hidden_size)
            state = (zeros, zeros)
        if not isinstance(state, tuple) or len(state) != 2:
            raise ValueError(f"LSTM expects the state as a tuple (h_0, c_0); got {type(state).__name__}")
        self._check_state(state[0], x, "h_0")
        self._check_state(state[1], x, "c_0")
        h_n, c_n = [], []
        for layer, cell in enumerate(self.layers):
            h, c, outputs = state[0][layer], state[1][layer], []
            for t in range(T):
                h, c = cell(x[:, t], h, c)  # (B, I), (B, H), (B, H) -> (B, H), (B, H)
                outputs.append(h)
            x = torch.stack(outputs, dim=1)  # T x (B, H) -> (B, T, H): the next layer's input
            h_n.append(h)
            c_n.append(c)
        output = x if self.batch_first else x.transpose(0, 1)
        return output, (torch.stack(h_n), torch.stack(c_n))  # h_n, c_n (L, B, H)


def chrono_init_(cell: LSTMCell, t_max: int, generator: torch.Generator | None = None) -> None:
    """Tallec and Ollivier's "chrono" initialisation of the gate biases, in place.

    With a constant input the forget gate f makes the cell decay as f^k, a memory of
    about 1 / (1 - f) steps; torch's initialisation puts f near 0.5, two steps. Chrono
    draws each unit's forget bias as log(u), u ~ U(1, t_max - 1), so that memories span
    1 to t_max steps, and sets the input gate's bias to its negative (write little,
    keep long). The biases on the hidden-state side are set to zero.
    """
    if t_max < 3:
        raise ValueError(f"t_max must be at least 3; got {t_max}")
    u = torch.empty(cell.hidden_size).uniform_(1, t_max - 1, generator=generator)
    with torch.no_grad():
        cell.forget_gate.x.bias.copy_(torch.log(u))  # f = sigmoid(log u) = u / (1 + u) at zero input
        cell.forget_gate.h.bias.zero_()
        cell.input_gate.x.bias.copy_(-torch.log(u))
        cell.input_gate.h.bias.zero_()


@dataclass(frozen=True)
class SequenceClassifierConfig:
    """Settings of :class:`SequenceClassifier`: features per step, width, layers, classes, the cell."""

    input_size: int = 64  # a whole 8x8 digit in one step
    hidden_size: int = 32
    num_layers: int = 1
    num_classes: int = 10
    cell: str = "lstm"  # "lstm", or "rnn" for the plain tanh RNN it replaced
    chrono: int = 0  # t_max of the chrono initialisation of the LSTM gates; 0 keeps torch's

    def __post_init__(self) -> None:
        check_positive(
            input_size=self.input_size, hidden_size=self.hidden_size,
            num_layers=self.num_layers, num_classes=self.num_classes,
        )
        if self.cell not in ("lstm", "rnn"):
            raise ValueError(f"cell must be 'lstm' or 'rnn'; got {self.cell!r}")
        if self.chrono and (self.cell != "lstm" or self.chrono < 3):
            raise ValueError(f"chrono needs cell='lstm' and t_max >= 3; got cell={self.cell!r}, chrono={self.chrono}")


class SequenceClassifier(nn.Module):
    """Read a sequence, classify it from the last hidden state: (B, T, I) -> (B, K).

    >>> model = SequenceClassifier(SequenceClassifierConfig())
    >>> tuple(model(torch.zeros(2, 30, 64)).shape)
    (2, 10)
    """

    def __init__(self, cfg: SequenceClassifierConfig) -> None:
        super().__init__()
        self.cfg = cfg
        recurrent = LSTM if cfg.cell == "lstm" else RNN
        self.encoder = recurrent(cfg.input_size, cfg.hidden_size, cfg.num_layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden_size, cfg.num_classes)
        if cfg.chrono:
            for cell in self.encoder.layers:
                chrono_init_(cell, cfg.chrono)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        output, _ = self.encoder(x)  # (B, T, I) -> (B, T, H)
        return self.head(output[:, -1])  # (B, H) -> (B, K): only the last step answers


def delayed_digits(delay: int, test_size: float = 0.25, seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Recall after a delay, on scikit-learn's 8x8 digits: step 0 shows the whole digit
    (64 pixels), the next ``delay`` steps show nothing (zeros), and the model answers at
    the last step. The label can only come from step 0, ``delay`` steps back. Returns
    ``x_train (B, 1 + delay, 64), y_train (B,), x_test (B', 1 + delay, 64), y_test (B',)``.
    """
    from refmodels.foundations.mlp import load_digits_split

    if not isinstance(delay, int) or delay < 0:
        raise ValueError(f"delay must be a non-negative integer; got {delay!r}")
    x_train, y_train, x_test, y_test = load_digits_split(test_size=test_size, seed=seed)

    def to_sequence(x: Tensor) -> Tensor:
        blank = x.new_zeros(len(x), delay, x.shape[1])  # (B, delay, 64)
        return torch.cat([x[:, None], blank], dim=1)  # (B, 64) -> (B, 1 + delay, 64)

    return to_sequence(x_train), y_train, to_sequence(x_test), y_test


def train_classifier(
    model: nn.Module, x: Tensor, y: Tensor, epochs: int = 6, lr: float = 0.01, batch_size: int = 64, seed: int = 0
) -> list[float]:
    """Adam on the cross-entropy, gradients clipped to norm 1; returns each epoch's mean loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=order)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()  # backpropagation through time: through every step, last first
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # guard against the opposite failure, exploding
            opt.step()
            total += loss.item() * len(idx)
        history.append(total / len(x))
    return history


def gradient_through_time(encoder: nn.Module, x: Tensor) -> Tensor:
    """How much the last hidden state depends on each step's input: ||d sum(h_T) / d x_t||
    for every t, as a (T,) vector (norm over batch and features).

    A model that forgets has a gradient that shrinks geometrically as t moves back
    from T; nothing it saw long ago can change its answer, or be learned from.
    """
    x = x.detach().clone().requires_grad_(True)
    output, _ = encoder(x)  # (B, T, I) -> (B, T, H), batch_first encoders
    output[:, -1].sum().backward()
    return x.grad.norm(dim=(0, 2))  # (B, T, I) -> (T,)


def _build(**overrides) -> SequenceClassifier:
    return SequenceClassifier(SequenceClassifierConfig(**overrides))


@register_model()
def lstm_digits(**overrides) -> SequenceClassifier:
    """The page's model: a digit, then a delay; 32 LSTM units, 10 classes (``cell="rnn"`` for the plain RNN)."""
    return _build(**overrides)


@register_model()
def lstm_tiny(**overrides) -> SequenceClassifier:
    """Two narrow LSTM layers, small enough for tests."""
    defaults = dict(input_size=4, hidden_size=8, num_layers=2, num_classes=3)
    return _build(**{**defaults, **overrides})
