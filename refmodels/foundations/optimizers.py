"""Gradient-descent optimizers written from their update equations.

SGD (Robbins and Monro 1951), momentum (Polyak 1964), Nesterov's accelerated
gradient (Nesterov 1983, in the form of Sutskever et al. 2013), Adagrad (Duchi et
al. 2011), RMSProp (Tieleman and Hinton 2012), Adam (Kingma and Ba 2015) and AdamW
(Loshchilov and Hutter 2019), each a ``torch.optim.Optimizer`` subclass whose
``step`` is the paper's update, one equation per line, the equation in the comment
above the line that computes it.

Checked against: ``torch.optim.SGD`` (plain, momentum, Nesterov, weight decay),
``Adagrad``, ``RMSprop`` (plain, momentum, centered), ``Adam`` (with and without L2
weight decay) and ``AdamW``: parameters after 100 steps of training a small MLP on
scikit-learn's digits agree within 1e-6 (``tests/test_optimizers.py``).

Shapes: every update is elementwise; each state tensor (velocity, squared-gradient
average...) has its parameter's shape.

Conventions (torch's, chosen so the checks are exact; each is one of several in the
literature)::

    * Momentum: v <- mu v + g, p <- p - lr v, with v_1 = g_1 (no dampening). Polyak's
      form p <- p - lr g + mu (p - p_prev) is the same update; some texts write
      v <- mu v + lr g, which differs when lr changes during training.
    * Nesterov: p <- p - lr (g + mu v), Sutskever et al.'s rewriting that evaluates
      the gradient at the current parameters instead of at a look-ahead point.
    * Adagrad and RMSProp add eps *outside* the square root: g / (sqrt(s) + eps).
    * Adam: eps is added to the bias-corrected sqrt(v_hat), as in Algorithm 1 of the
      paper (not to sqrt(v) before correction, the paper's "efficient" variant).
    * Weight decay: SGD, Adagrad, RMSProp and Adam add lambda p to the gradient (L2
      regularization, "coupled"); AdamW shrinks the parameters directly,
      p <- p (1 - lr lambda), before the Adam step ("decoupled"). torch scales the
      decoupled decay by lr; the paper's schedule multiplier eta_t plays that role.

Differences from the papers: none in the updates above; options the pages do not
use (learning-rate decay in Adagrad, amsgrad, maximize, dampening) are left out.
"""

from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "RMSprop", "SURFACES", "optimize_path"]


def _check(lr: float, **others: float) -> None:
    """Hyperparameters must be >= 0 (lr, eps, weight decay, momentum)."""
    for name, value in {"lr": lr, **others}.items():
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0; got {value}")


def _check_rate(name: str, value: float) -> None:
    """Decay rates (beta1, beta2, alpha) must lie in [0, 1)."""
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1); got {value}")


def _closure_loss(closure: Callable[[], Tensor] | None) -> Tensor | None:
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and Nesterov momentum.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = SGD([w], lr=0.1)
    >>> (w**2).sum().backward(); opt.step(); w.data   # 1 - 0.1 * 2
    tensor([0.8000])
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        _check(lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0; got momentum=0")
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd:
                    # g <- g + lambda p   (the gradient of the L2 penalty lambda/2 ||p||^2)
                    g = g.add(p, alpha=wd)
                if mu:
                    state = self.state[p]
                    if "velocity" not in state:
                        # v_1 = g_1
                        state["velocity"] = g.clone()
                    else:
                        # v <- mu v + g   (a running sum of past gradients, older ones shrunk by mu)
                        state["velocity"].mul_(mu).add_(g)
                    v = state["velocity"]
                    # Nesterov: step along g + mu v, where the velocity is about to take us
                    g = g.add(v, alpha=mu) if group["nesterov"] else v
                # p <- p - lr g
                p.add_(g, alpha=-lr)
        return loss


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step is divided by the root of its summed squared gradients."""

    def __init__(self, params: Iterable, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0) -> None:
        _check(lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        loss = _closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])  # g <- g + lambda p
                state = self.state[p]
                s = state.setdefault("sum_sq", torch.zeros_like(p))
                # s <- s + g^2   (never decays: steps only ever shrink)
                s.addcmul_(g, g)
                # p <- p - lr g / (sqrt(s) + eps)
                p.addcdiv_(g, s.sqrt().add_(group["eps"]), value=-group["lr"])
        return loss


class RMSprop(Optimizer):
    """RMSProp: Adagrad with a leaky average of squared gradients, so steps can grow again."""

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, centered: bool = False, weight_decay: float = 0.0) -> None:
        _check(lr, eps=eps, momentum=momentum, weight_decay=weight_decay)
        _check_rate("alpha", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        loss = _closure_loss(closure)
        for group in self.param_groups:
            alpha, mu = group["alpha"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])  # g <- g + lambda p
                state = self.state[p]
                s = state.setdefault("mean_sq", torch.zeros_like(p))
                # s <- alpha s + (1 - alpha) g^2
                s.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    m = state.setdefault("mean", torch.zeros_like(p))
                    # m <- alpha m + (1 - alpha) g;  divide by the standard deviation sqrt(s - m^2)
                    m.lerp_(g, 1 - alpha)
                    denom = s.addcmul(m, m, value=-1).sqrt_().add_(group["eps"])
                else:
                    # sqrt(s) + eps: the root mean square of recent gradients
                    denom = s.sqrt().add_(group["eps"])
                if mu:
                    buf = state.setdefault("velocity", torch.zeros_like(p))
                    # v <- mu v + g / (sqrt(s) + eps);  p <- p - lr v
                    buf.mul_(mu).addcdiv_(g, denom)
                    p.add_(buf, alpha=-group["lr"])
                else:
                    # p <- p - lr g / (sqrt(s) + eps)
                    p.addcdiv_(g, denom, value=-group["lr"])
        return loss


class Adam(Optimizer):
    """Adam: momentum (first moment) divided by an RMSProp scale (second moment), both bias-corrected.

    ``weight_decay`` here is L2 regularization added to the gradient, as in ``torch.optim.Adam``;
    for decoupled weight decay use :class:`AdamW`.
    """

    decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        _check(lr, eps=eps, weight_decay=weight_decay)
        _check_rate("beta1", betas[0])
        _check_rate("beta2", betas[1])
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd and self.decoupled:
                    # AdamW: p <- p (1 - lr lambda), outside the adaptive scaling
                    p.mul_(1 - lr * wd)
                elif wd:
                    # Adam + L2: g <- g + lambda p, which the adaptive scaling then rescales
                    g = g.add(p, alpha=wd)
                state = self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                t, m, v = state["t"], state["m"], state["v"]
                # m <- beta1 m + (1 - beta1) g   (torch computes it as m + (1 - beta1)(g - m))
                m.lerp_(g, 1 - beta1)
                # v <- beta2 v + (1 - beta2) g^2
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                # m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t): undo the pull towards the zero start
                bias1, bias2 = 1 - beta1**t, 1 - beta2**t
                # p <- p - lr m_hat / (sqrt(v_hat) + eps)
                denom = (v.sqrt() / bias2**0.5).add_(eps)
                p.addcdiv_(m, denom, value=-lr / bias1)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01, as torch.optim.AdamW)."""

    decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# -- Toy loss surfaces for the pictures: f(p) with p = (x, y) in the last axis --------


def ravine(p: Tensor) -> Tensor:
    """A long narrow valley: 100 times steeper across (y) than along (x). Minimum at (0, 0)."""
    x, y = p[..., 0], p[..., 1]
    return 0.05 * x**2 + 5 * y**2


def saddle(p: Tensor) -> Tensor:
    """A saddle at (0, 0) (down in y, up in x) between two minima at (0, +-1)."""
    x, y = p[..., 0], p[..., 1]
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2


def rosenbrock(p: Tensor) -> Tensor:
    """Rosenbrock's banana valley (1960): minimum at (1, 1), at the end of a curved, flat valley."""
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


#: The page's loss surfaces by name: a narrow ravine, a saddle, Rosenbrock's banana valley.
SURFACES: dict[str, Callable[[Tensor], Tensor]] = {"ravine": ravine, "saddle": saddle, "rosenbrock": rosenbrock}


def optimize_path(surface: Callable[[Tensor], Tensor], start: tuple[float, float], optimizer: type[Optimizer],
                  steps: int, **hyperparameters: float) -> Tensor:
    """Run ``optimizer`` on a 2-D surface from ``start``; returns the path, shape (steps + 1, 2).

    >>> optimize_path(ravine, (-9.0, 1.0), SGD, steps=10, lr=0.1).shape
    torch.Size([11, 2])
    """
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = optimizer([p], **hyperparameters)
    path = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        surface(p).backward()
        opt.step()
        path.append(p.detach().clone())
    return torch.stack(path)  # (steps + 1, 2)
