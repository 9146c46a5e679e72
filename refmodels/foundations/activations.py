"""Activation functions, each written as a value f(x) and a derivative f'(x).

Covers the survey of the activations page: identity (no activation), step, sigmoid, tanh, ReLU, Leaky ReLU,
PReLU, ELU, GELU (exact and tanh approximation), SiLU/Swish, and the gated units
GLU and SwiGLU.

Checked against: ``torch.nn.functional`` (``sigmoid``/``torch.sigmoid``, ``tanh``,
``relu``, ``leaky_relu``, ``prelu``, ``elu``, ``gelu(approximate="none"|"tanh")``,
``silu``, ``glu``): values and gradients on a dense grid that includes 0, +-1e4 and
negatives (``tests/test_activations.py``). torch has no single function for two of
them, so they are checked against the natural torch composition: step against
``torch.heaviside(x, 0)`` (values; torch defines no gradient for it), SwiGLU against
``F.silu(a) * b``.

Shapes: pointwise activations keep any shape ``(*shape)``. The gated units split the
last axis in two halves, ``(..., 2D) -> (..., D)``.

How gradients are computed: a pointwise activation is a :class:`Activation` module
with two methods, ``f`` (the value) and ``df`` (the derivative, written by hand), and
``backward`` multiplies the incoming gradient by ``df(x)``. Writing the derivative out
is what lets the page plot it and lets the tests hold it against torch's autograd.
Values are computed in forms that never overflow (``exp`` only of non-positive
numbers), so +-1e4 gives finite values and gradients, as in torch.

Conventions (torch's, kept so the checks are exact):
    * at x = 0 the derivative of ReLU is 0, of Leaky ReLU / PReLU the slope, of ELU alpha;
    * step(0) = 0 (Rosenblatt's unit fires only for a strictly positive input);
    * ``glu(x)`` gates the *first* half with the sigmoid of the *second*:
      ``a * sigmoid(b)``; ``swiglu(x)`` is ``silu(a) * b`` with ``a`` the first half,
      the order LLaMA's ``silu(w1 x) * (w3 x)`` uses.

Differences from the papers: none in the functions; PReLU's slope is one shared
parameter by default, as in ``torch.nn.PReLU()`` (He et al. also use one per channel:
``num_parameters=C``).
"""

import math

import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "GLU",
    "Identity",
    "Activation",
    "LeakyReLU",
    "PReLU",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Step",
    "SwiGLU",
    "Tanh",
    "make_activation",
]


class _Pointwise(torch.autograd.Function):
    """y = f(x) forward; dL/dx = dL/dy * f'(x) backward, with f' written by hand."""

    @staticmethod
    def forward(ctx, x, f, df):
        ctx.save_for_backward(x)
        ctx.df = df
        return f(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * ctx.df(x), None, None  # chain rule; f and df get no gradient


class Activation(nn.Module):
    """A pointwise activation: ``f`` is the function, ``df`` its derivative."""

    def f(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def df(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Float[Tensor, "*shape"]) -> Float[Tensor, "*shape"]:
        return _Pointwise.apply(x, self.f, self.df)


class Identity(Activation):
    """No non-linearity at all: f(x) = x. A stack of linear layers with this between
    them is one linear map (the MLP page shows it)."""

    def f(self, x: Tensor) -> Tensor:
        return x

    def df(self, x: Tensor) -> Tensor:
        return torch.ones_like(x)


class Step(Activation):
    """Rosenblatt's threshold unit: 1 if x > 0 else 0. Its derivative is 0 everywhere
    it exists, so gradient descent cannot train it."""

    def f(self, x: Tensor) -> Tensor:
        return (x > 0).to(x.dtype)

    def df(self, x: Tensor) -> Tensor:
        return torch.zeros_like(x)


class Sigmoid(Activation):
    """The logistic function, squashing any input into (0, 1)."""

    def f(self, x: Tensor) -> Tensor:
        # sigma(x) = 1 / (1 + e^{-x}) = e^{x} / (1 + e^{x}); with e = e^{-|x|} <= 1 both
        # forms become 1 / (1 + e) (x >= 0) and e / (1 + e) (x < 0): no overflow.
        e = torch.exp(-x.abs())
        return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def df(self, x: Tensor) -> Tensor:
        # sigma'(x) = sigma(x) (1 - sigma(x)), at most 1/4 (at x = 0)
        s = self.f(x)
        return s * (1 - s)


class Tanh(Activation):
    """The hyperbolic tangent, a sigmoid rescaled to (-1, 1): tanh(x) = 2 sigma(2x) - 1."""

    def f(self, x: Tensor) -> Tensor:
        # tanh(x) = (1 - e^{-2x}) / (1 + e^{-2x}) for x >= 0, odd; expm1 keeps small x exact
        m = torch.expm1(-2 * x.abs())  # e^{-2|x|} - 1, in (-1, 0]
        return torch.sign(x) * (-m) / (2 + m)

    def df(self, x: Tensor) -> Tensor:
        # tanh'(x) = 1 - tanh(x)^2, at most 1 (at x = 0)
        return 1 - self.f(x) ** 2


class ReLU(Activation):
    """The rectified linear unit, max(0, x) (Nair and Hinton 2010; Glorot et al. 2011)."""

    def f(self, x: Tensor) -> Tensor:
        return torch.where(x > 0, x, torch.zeros_like(x))

    def df(self, x: Tensor) -> Tensor:
        # relu'(x) = 1 if x > 0 else 0: a unit whose input stays negative gets no gradient
        return (x > 0).to(x.dtype)


class LeakyReLU(Activation):
    """max(0, x) with a small slope for negative inputs, so no unit's gradient is exactly 0."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def f(self, x: Tensor) -> Tensor:
        return torch.where(x > 0, x, self.negative_slope * x)

    def df(self, x: Tensor) -> Tensor:
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, self.negative_slope))

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(nn.Module):
    """Leaky ReLU whose negative slope ``a`` is learned (He et al. 2015).

    The slope is a parameter, so this one is plain autograd: ``where`` of two finite
    branches has exact gradients for ``x`` and for ``a``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((num_parameters,), init))

    def forward(self, x: Float[Tensor, "*shape"]) -> Float[Tensor, "*shape"]:
        # one slope per channel (axis 1, as torch.nn.PReLU), or one shared slope
        a = self.weight if self.weight.numel() == 1 or x.ndim < 2 else self.weight.view(-1, *[1] * (x.ndim - 2))
        return torch.where(x > 0, x, a * x)


class ELU(Activation):
    """Exponential linear unit (Clevert et al. 2016): x for x > 0, alpha (e^x - 1) below."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def f(self, x: Tensor) -> Tensor:
        # exp only of min(x, 0), so x = 1e4 cannot overflow
        return torch.where(x > 0, x, self.alpha * torch.expm1(x.clamp(max=0)))

    def df(self, x: Tensor) -> Tensor:
        # elu'(x) = 1 for x > 0, alpha e^x for x <= 0 (= elu(x) + alpha)
        return torch.where(x > 0, torch.ones_like(x), self.alpha * torch.exp(x.clamp(max=0)))

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


_K = math.sqrt(2 / math.pi)  # the constant of GELU's tanh approximation


class GELU(Activation):
    """Gaussian error linear unit (Hendrycks and Gimpel 2016): x Phi(x), Phi the normal CDF.

    ``approximate="tanh"`` is the paper's fast form, used by GPT-2 and BERT's original code.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def f(self, x: Tensor) -> Tensor:
        if self.approximate == "tanh":
            # gelu(x) ~ x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            return 0.5 * x * (1 + Tanh().f(_K * (x + 0.044715 * x**3)))
        # gelu(x) = x Phi(x) = x/2 (1 + erf(x / sqrt 2))
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))

    def df(self, x: Tensor) -> Tensor:
        if self.approximate == "tanh":
            # d/dx of the above: 1/2 (1 + t) + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2)
            t = Tanh().f(_K * (x + 0.044715 * x**3))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * _K * (1 + 3 * 0.044715 * x**2)
        # gelu'(x) = Phi(x) + x phi(x), phi the normal density
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
        return cdf + x * pdf

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Activation):
    """Sigmoid-weighted linear unit, x sigma(x): named SiLU by Hendrycks and Gimpel (2016),
    used for reinforcement learning by Elfwing et al. (2018), found again and named
    Swish(-1) by Ramachandran et al. (2017)."""

    def f(self, x: Tensor) -> Tensor:
        return x * Sigmoid().f(x)

    def df(self, x: Tensor) -> Tensor:
        # silu'(x) = sigma(x) + x sigma(x)(1 - sigma(x)) = sigma(x) (1 + x (1 - sigma(x)))
        s = Sigmoid().f(x)
        return s * (1 + x * (1 - s))


def _halves(x: Tensor, name: str) -> tuple[Tensor, Tensor]:
    if x.ndim < 1 or x.shape[-1] % 2:
        raise ValueError(f"{name} splits the last axis in two halves, so it must be even; got shape {tuple(x.shape)}")
    return x.chunk(2, dim=-1)  # (..., 2D) -> (..., D), (..., D)


class GLU(nn.Module):
    """Gated linear unit (Dauphin et al. 2017): a * sigma(b), a and b the two halves of x."""

    def forward(self, x: Float[Tensor, "*batch two_d"]) -> Float[Tensor, "*batch d"]:
        a, b = _halves(x, "GLU")
        return a * Sigmoid()(b)  # the sigmoid opens or closes each of a's D channels


class SwiGLU(nn.Module):
    """GLU with a Swish gate (Shazeer 2020): silu(a) * b. Inside a transformer's MLP
    a and b are two linear maps of the same input (LLaMA: silu(W1 x) * (W3 x))."""

    def forward(self, x: Float[Tensor, "*batch two_d"]) -> Float[Tensor, "*batch d"]:
        a, b = _halves(x, "SwiGLU")
        return SiLU()(a) * b


#: name -> module, for configs that pick an activation by name
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "identity": Identity,
    "step": Step,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
    "glu": GLU,
    "swiglu": SwiGLU,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (``"relu"``, ``"gelu"``, ...).

    >>> make_activation("relu")(torch.tensor([-2.0, 0.0, 3.0]))
    tensor([0., 0., 3.])
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
