"""The perceptron (Rosenblatt 1958) and the multi-layer perceptron.

Papers: F. Rosenblatt, "The perceptron: a probabilistic model for information storage
and organization in the brain" (1958); Rumelhart, Hinton and Williams, "Learning
representations by back-propagating errors" (1986); the universal approximation
theorems of Cybenko (1989) and Hornik et al. (1989).
Checked against: ``torchvision.ops.MLP`` (a stack of ``nn.Linear`` + activation, the
production MLP block): same parameter count and same logits with the same weights,
through the parity harness ``refmodels.parity`` (``tests/test_mlp.py``).

Shapes (batch-first, one glossary for the project)::

    B batch, D features (64 for scikit-learn's 8x8 digits), H hidden width, K classes.
    x (B, D) -> hidden layer 1 (B, H1) -> ... -> hidden layer L (B, HL) -> logits (B, K)

Differences from the papers:
    * Rosenblatt's perceptron was a machine with random, fixed "association units" in
      front of the trained unit; here it is the trained unit alone, a linear
      threshold unit on the raw features, as in most textbooks.
    * The MLP is trained by backpropagation with a softmax cross-entropy loss rather
      than the squared error of Rumelhart et al.; the hidden activation is ReLU by
      default (the 1986 paper used the logistic sigmoid: ``activation="sigmoid"``).
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_positive
from refmodels.foundations.activations import ACTIVATIONS, GLU, SwiGLU, make_activation
from refmodels.registry import register_model

__all__ = [
    "MLP",
    "MLPConfig",
    "Perceptron",
    "check_features",
    "dead_units",
    "fit_classifier",
    "load_digits_split",
    "mlp_from_knots",
]


def load_digits_split(test_size: float = 0.25, seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """scikit-learn's 8x8 digits (1797 images, shipped with the package): a stratified
    train/held-out split, pixels scaled from 0..16 to [0, 1] and flattened to 64 features.

    The 1797 images are the test set of the UCI optical digits data, written by 13
    people; the split is by image, not by writer, so both parts share the 13 writers.

    Returns ``x_train (B, 64), y_train (B,), x_test (B', 64), y_test (B',)``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data.astype("float32") / 16  # (1797, 64), each row an 8x8 image read row by row
    parts = train_test_split(x, digits.target, test_size=test_size, random_state=seed, stratify=digits.target)
    x_train, x_test, y_train, y_test = (torch.as_tensor(p) for p in parts)
    return x_train, y_train.long(), x_test, y_test.long()


def check_features(x: Tensor, *, features: int, model: str) -> None:
    """``x`` must be a batch of feature vectors ``(B, features)``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{model} expects a tensor (B, {features}); got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(
            f"{model} expects a batch of feature vectors (B, {features}); "
            f"got a {x.ndim}-d tensor of shape {tuple(x.shape)}"
        )
    if x.shape[1] != features:
        raise ValueError(f"{model} expects {features} features (B, {features}); got shape {tuple(x.shape)}")


class Perceptron(nn.Module):
    """A linear threshold unit: y = step(w . x + b), trained by Rosenblatt's rule.

    >>> p = Perceptron(2)
    >>> tuple(p(torch.zeros(5, 2)).shape)
    (5,)
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        check_positive(in_features=in_features)
        self.in_features = in_features
        self.weight = nn.Parameter(torch.zeros(in_features), requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(()), requires_grad=False)

    def forward(self, x: Tensor) -> Float[Tensor, " B"]:
        check_features(x, features=self.in_features, model="Perceptron")
        return (x @ self.weight + self.bias > 0).to(x.dtype)  # (B, D) -> (B,): 1 fires, 0 does not

    @torch.no_grad()
    def update(self, x: Float[Tensor, " D"], y: float, lr: float = 1.0) -> bool:
        """One step of the perceptron learning rule on one example; True if it was wrong."""
        y_hat = self(x[None])[0]
        # w <- w + lr (y - y_hat) x ;  b <- b + lr (y - y_hat)
        # nothing changes when the unit is right; a miss moves w towards (y = 1) or
        # away from (y = 0) the example.
        error = y - y_hat
        self.weight += lr * error * x
        self.bias += lr * error
        return bool(error != 0)


@dataclass(frozen=True)
class MLPConfig:
    """Settings of :class:`MLP`: input features, hidden widths, classes, the activation's name."""

    in_features: int = 64  # scikit-learn's digits: 8x8 pixels
    hidden: tuple[int, ...] = (128,)  # width of each hidden layer; () is a linear model
    num_classes: int = 10
    activation: str = "relu"  # a pointwise name from refmodels.foundations.activations.ACTIVATIONS

    def __post_init__(self) -> None:
        check_positive(in_features=self.in_features, num_classes=self.num_classes)
        for i, h in enumerate(self.hidden):
            check_positive(**{f"hidden[{i}]": h})
        pointwise = [n for n, cls in ACTIVATIONS.items() if cls not in (GLU, SwiGLU)]
        if self.activation not in pointwise:
            raise ValueError(f"activation must be one of {', '.join(pointwise)}; got {self.activation!r}")


class MLP(nn.Module):
    """Linear layers with a non-linearity between them: h_l = act(W_l h_{l-1} + b_l).

    >>> model = MLP(MLPConfig(in_features=64, hidden=(128,), num_classes=10))
    >>> [tuple(h.shape) for h in model.features(torch.zeros(3, 64))]
    [(3, 128)]
    >>> tuple(model(torch.zeros(3, 64)).shape)
    (3, 10)
    """

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = (cfg.in_features, *cfg.hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.act = make_activation(cfg.activation)
        self.head = nn.Linear(widths[-1], cfg.num_classes)

    def features(self, x: Tensor) -> list[Tensor]:
        """The output of every hidden layer, first layer first."""
        check_features(x, features=self.cfg.in_features, model="MLP")
        out = []
        for layer in self.layers:
            x = self.act(layer(x))  # (B, H_{l-1}) -> (B, H_l)
            out.append(x)
        return out

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        check_features(x, features=self.cfg.in_features, model="MLP")
        for layer in self.layers:
            x = self.act(layer(x))  # (B, H_{l-1}) -> (B, H_l): affine map, then the non-linearity
        return self.head(x)  # (B, H_L) -> (B, K): one logit per class, no activation


@torch.no_grad()
def mlp_from_knots(knots_x: Tensor, knots_y: Tensor) -> MLP:
    """A one-hidden-layer ReLU MLP, weights written by hand, that draws the straight
    lines between n + 1 points (x_i, y_i): n hidden units, one per segment.

    f(x) = y_0 + sum_i (s_i - s_{i-1}) relu(x - x_i), s_i the slope of segment i
    (s_{-1} = 0): unit i adds a kink at x_i that turns the slope from s_{i-1} to s_i.
    Exact on [x_0, x_n]; the constructive half of universal approximation.

    >>> net = mlp_from_knots(torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.0, 1.0, 0.0]))
    >>> net(torch.tensor([[0.5], [1.5]])).flatten().tolist()
    [0.5, 0.5]
    """
    if knots_x.ndim != 1 or knots_x.shape != knots_y.shape or len(knots_x) < 2:
        raise ValueError(
            f"expected two 1-d tensors of the same length >= 2; got {tuple(knots_x.shape)} and {tuple(knots_y.shape)}"
        )
    slopes = (knots_y[1:] - knots_y[:-1]) / (knots_x[1:] - knots_x[:-1])  # (n,)
    kinks = slopes - torch.cat([slopes.new_zeros(1), slopes[:-1]])  # s_i - s_{i-1}
    net = MLP(MLPConfig(in_features=1, hidden=(len(slopes),), num_classes=1, activation="relu"))
    net.layers[0].weight.copy_(torch.ones(len(slopes), 1))  # unit i sees x ...
    net.layers[0].bias.copy_(-knots_x[:-1])  # ... minus its knot: relu(x - x_i)
    net.head.weight.copy_(kinks[None])  # (1, n)
    net.head.bias.fill_(knots_y[0].item())
    return net


def fit_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    epochs: int = 20,
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 64,
    seed: int = 0,
) -> list[float]:
    """Mini-batch SGD on the softmax cross-entropy; returns the mean loss of each epoch."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    order = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=order)  # a new shuffle every epoch
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            # L = -1/B sum_i log softmax(f(x_i))[y_i]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()  # backpropagation: dL/dW for every layer, last layer first
            opt.step()  # W <- W - lr * (momentum-smoothed) dL/dW
            total += loss.item() * len(idx)
        history.append(total / len(x))
    return history


@torch.no_grad()
def dead_units(model: MLP, x: Tensor) -> list[Tensor]:
    """For each hidden layer, a (H,) mask of the units whose pre-activation is <= 0 on
    every example of ``x``. Behind a ReLU such a unit outputs 0 and passes back a zero
    gradient for all of them: its incoming weights cannot change ("dead")."""
    check_features(x, features=model.cfg.in_features, model="MLP")
    masks = []
    for layer in model.layers:
        z = layer(x)  # (B, H_{l-1}) -> (B, H_l), before the activation
        masks.append((z <= 0).all(dim=0))  # (B, H_l) -> (H_l,)
        x = model.act(z)
    return masks


def _build(**overrides) -> MLP:
    return MLP(MLPConfig(**overrides))


@register_model()
def mlp_digits(**overrides) -> MLP:
    """The MLP of the page: 64 pixels -> 128 ReLU units -> 10 digit classes."""
    return _build(**overrides)


@register_model()
def mlp_tiny(**overrides) -> MLP:
    """Two narrow hidden layers, small enough for tests."""
    defaults = dict(in_features=8, hidden=(16, 16), num_classes=4)
    return _build(**{**defaults, **overrides})
