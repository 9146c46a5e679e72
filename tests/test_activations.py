"""Every activation of refmodels.foundations.activations against torch.nn.functional:
values and gradients on a dense grid with the awkward points (0, tiny, +-1e4), in
float32 and float64; step and SwiGLU against their natural torch compositions; the
shapes and the experiments the activations page shows."""

import math

import pytest
import torch
import torch.nn.functional as F

import refmodels
from refmodels.foundations import activations as A
from refmodels.foundations.mlp import dead_units, fit_classifier, load_digits_split

SPECIAL = [0.0, -0.0, 1e-6, -1e-6, 20.0, -20.0, 50.0, -50.0, 100.0, -100.0, 1e3, -1e3, 1e4, -1e4]
DTYPES = [torch.float32, torch.float64]


def grid(dtype):
    return torch.cat([torch.linspace(-10, 10, 20_001), torch.tensor(SPECIAL)]).to(dtype)


def swiglu_torch(x):
    a, b = x.chunk(2, dim=-1)
    return F.silu(a) * b


POINTWISE = {
    "sigmoid": (A.Sigmoid, torch.sigmoid),
    "tanh": (A.Tanh, torch.tanh),
    "relu": (A.ReLU, F.relu),
    "leaky_relu": (lambda: A.LeakyReLU(0.01), lambda x: F.leaky_relu(x, 0.01)),
    "leaky_relu_0.2": (lambda: A.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    "elu": (A.ELU, F.elu),
    "elu_alpha_2": (lambda: A.ELU(2.0), lambda x: F.elu(x, alpha=2.0)),
    "gelu": (A.GELU, F.gelu),
    "gelu_tanh": (lambda: A.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "silu": (A.SiLU, F.silu),
    "identity": (A.Identity, lambda x: x * 1),
    "prelu": (A.PReLU, lambda x: F.prelu(x, torch.tensor([0.25], dtype=x.dtype))),
}
GATED = {"glu": (A.GLU, lambda x: F.glu(x, dim=-1)), "swiglu": (A.SwiGLU, swiglu_torch)}


def tol(dtype):
    return dict(rtol=1.3e-6, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)


def value_and_grad(fn, x):
    x = x.clone().requires_grad_()
    y = fn(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    return y, g


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(POINTWISE))
def test_pointwise_matches_torch(name, dtype):
    make, reference = POINTWISE[name]
    x = grid(dtype)
    y, g = value_and_grad(make().to(dtype), x)
    y_ref, g_ref = value_and_grad(reference, x)
    assert torch.isfinite(y).all() and torch.isfinite(g).all()
    torch.testing.assert_close(y, y_ref, **tol(dtype))
    torch.testing.assert_close(g, g_ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(GATED))
def test_gated_matches_torch(name, dtype):
    make, reference = GATED[name]
    g1 = grid(dtype)
    x = torch.stack([g1, g1.flip(0)], dim=-1)  # (N, 2): every pair (a, b)
    y, g = value_and_grad(make(), x)
    y_ref, g_ref = value_and_grad(reference, x)
    assert y.shape == (len(g1), 1)
    torch.testing.assert_close(y, y_ref, **tol(dtype))
    torch.testing.assert_close(g, g_ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_step_matches_heaviside_and_has_zero_gradient(dtype):
    x = grid(dtype)
    y, g = value_and_grad(A.Step(), x)
    torch.testing.assert_close(y, torch.heaviside(x, torch.zeros_like(x)), rtol=0, atol=0)
    assert (g == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_slope_gradient_matches_torch(dtype):
    x = grid(dtype)[None].repeat(3, 1).T.contiguous()  # (N, 3): three channels
    ours = A.PReLU(num_parameters=3, init=0.1).to(dtype)
    theirs = torch.nn.PReLU(num_parameters=3, init=0.1).to(dtype)
    for module in (ours, theirs):
        module(x).square().mean().backward()
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad, **tol(dtype))


def test_derivatives_at_zero_follow_torch():
    zero = torch.zeros(1)
    assert A.ReLU().df(zero).item() == 0.0
    assert A.LeakyReLU(0.01).df(zero).item() == pytest.approx(0.01)
    assert A.ELU(2.0).df(zero).item() == 2.0
    assert A.Sigmoid().df(zero).item() == 0.25
    assert A.Tanh().df(zero).item() == 1.0
    assert A.GELU().df(zero).item() == 0.5


def test_shapes_on_page():
    z = torch.randn(450, 128)
    for name in ["step", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "silu"]:
        assert A.make_activation(name)(z).shape == (450, 128)
    pairs = torch.cat([z, z], dim=1)
    assert A.GLU()(pairs).shape == (450, 128) and A.SwiGLU()(pairs).shape == (450, 128)


@pytest.mark.parametrize("unit", [A.GLU(), A.SwiGLU()])
def test_gated_units_reject_odd_width(unit):
    with pytest.raises(ValueError, match=r"must be even; got shape \(4, 7\)"):
        unit(torch.zeros(4, 7))


def test_bad_names_raise():
    with pytest.raises(ValueError, match="unknown activation 'softmax'; expected one of"):
        A.make_activation("softmax")
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'; got 'fast'"):
        A.GELU("fast")


def test_gelu_tanh_approximation_gap_is_small():
    x = torch.linspace(-10, 10, 200_001, dtype=torch.float64)
    gap = (A.GELU().f(x) - A.GELU("tanh").f(x)).abs().max().item()
    assert 1e-5 < gap < 1e-3


def test_sigmoid_gradient_vanishes_with_depth_relu_does_not():
    x, y, _, _ = load_digits_split()
    ratio = {}
    for activation in ["sigmoid", "relu"]:
        torch.manual_seed(0)
        net = refmodels.create_model("mlp_digits", hidden=(64,) * 10, activation=activation)
        for layer in [*net.layers, net.head]:
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
        F.cross_entropy(net(x[:256]), y[:256]).backward()
        g = [layer.weight.grad.pow(2).mean().sqrt() for layer in [*net.layers, net.head]]
        ratio[activation] = (g[0] / g[-1]).item()
    # measured over torch seeds 0-2, portable and AVX2 kernels (see the activations page):
    # sigmoid 3.5e-6..4.2e-6, ReLU 0.29..0.55
    assert math.log10(ratio["relu"] / ratio["sigmoid"]) > 2, f"ReLU {ratio['relu']:.1e} vs sigmoid {ratio['sigmoid']:.1e}"
    assert abs(math.log10(ratio["sigmoid"] / 0.25**10)) < 2, f"sigmoid {ratio['sigmoid']:.1e}, claim: the order of 4^-10"
    assert 0.1 < ratio["relu"] < 10, f"ReLU first/last {ratio['relu']:.2f}, claim: of order one"


def test_dead_relu_units_are_frozen_leaky_ones_are_not():
    """The page's experiment: one epoch at lr 0.5 kills ReLU units; their weights never move again."""
    x_train, y_train, _, _ = load_digits_split()
    frozen = {}
    for activation in ["relu", "leaky_relu"]:
        torch.manual_seed(0)
        net = refmodels.create_model("mlp_digits", hidden=(128, 128), activation=activation)
        init = dead_units(net, x_train)[0].float().mean().item()
        fit_classifier(net, x_train, y_train, epochs=1, lr=0.5)
        dead = dead_units(net, x_train)[0]
        assert dead.shape == (128,)
        # measured over seeds 0-2 and both kernels: 7x..27x the dead units at initialisation
        assert dead.float().mean().item() > 3 * init, f"dead {dead.float().mean():.2f} after the large step, {init:.2f} at init"
        before = net.layers[0].weight.detach().clone()
        fit_classifier(net, x_train, y_train, epochs=1, lr=0.05, seed=1)
        moved = (net.layers[0].weight.detach() - before).abs().amax(dim=1)
        frozen[activation] = (moved[dead] == 0).float().mean().item()
    assert frozen == {"relu": 1.0, "leaky_relu": 0.0}, f"share of dead units whose weights never moved: {frozen}"
