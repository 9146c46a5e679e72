"""Each optimizer of refmodels.foundations.optimizers against torch.optim, step for step:
parameters after 100 steps of training a small MLP on scikit-learn's digits agree
within 1e-6. Plus hyperparameter validation and the claims the optimizers page makes."""

import copy

import pytest
import torch
import torch.nn.functional as F

import refmodels
from refmodels.foundations import optimizers as O
from refmodels.foundations.mlp import load_digits_split

CASES = [
    (O.SGD, torch.optim.SGD, dict(lr=0.1)),
    (O.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (O.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=1e-3)),
    (O.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (O.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (O.Adagrad, torch.optim.Adagrad, dict(lr=0.05)),
    (O.Adagrad, torch.optim.Adagrad, dict(lr=0.05, weight_decay=1e-3, eps=1e-6)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=1e-3, momentum=0.9)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=1e-3)),
    (O.Adam, torch.optim.Adam, dict(lr=1e-3)),
    (O.Adam, torch.optim.Adam, dict(lr=1e-3, betas=(0.8, 0.99), eps=1e-6)),
    (O.Adam, torch.optim.Adam, dict(lr=1e-3, weight_decay=1e-2)),
    (O.AdamW, torch.optim.AdamW, dict(lr=1e-3)),
    (O.AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=0.1)),
]


@pytest.fixture(scope="module")
def problem():
    x, y, _, _ = load_digits_split()
    torch.manual_seed(0)
    base = refmodels.create_model("mlp_digits", hidden=(32,))
    batches = [torch.randint(0, len(x), (64,), generator=torch.Generator().manual_seed(i)) for i in range(100)]
    return x, y, base, batches


def train(problem, optimizer, **hp):
    x, y, base, batches = problem
    net = copy.deepcopy(base)
    opt = optimizer(net.parameters(), **hp)
    after_step = []
    for idx in batches:
        opt.zero_grad()
        F.cross_entropy(net(x[idx]), y[idx]).backward()
        opt.step()
        after_step.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    return torch.stack(after_step)  # (100 steps, number of parameters)


@pytest.mark.parametrize("ours, theirs, hp", CASES, ids=[f"{c[1].__name__}-{i}" for i, c in enumerate(CASES)])
def test_100_steps_match_torch_optim(problem, ours, theirs, hp):
    a, b = train(problem, ours, **hp), train(problem, theirs, **hp)
    start = torch.cat([p.detach().flatten() for p in problem[2].parameters()])
    assert (a[-1] - start).abs().max() > 1e-2, "the parameters must actually move"
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)  # every parameter after every step


@pytest.mark.parametrize("ours, theirs, right, wrong", [
    (O.Adam, torch.optim.Adam, dict(lr=1e-3), dict(lr=1e-3, betas=(0.9, 0.99))),
    (O.Adam, torch.optim.Adam, dict(lr=1e-3), dict(lr=1e-3, betas=(0.8, 0.999))),
    (O.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.85)),
    (O.RMSprop, torch.optim.RMSprop, dict(lr=1e-3), dict(lr=1e-3, alpha=0.95)),
])
def test_the_comparison_catches_a_wrong_update(problem, ours, theirs, right, wrong):
    """The parity check above can fail: one wrong hyperparameter in ours moves the weights far outside 1e-6."""
    a, b = train(problem, ours, **wrong), train(problem, theirs, **right)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert (a - b).abs().max() > 100 * 1e-6, f"a wrong setting moved the weights by only {(a - b).abs().max():.1e}"


def test_state_shapes_follow_parameters():
    w = torch.nn.Parameter(torch.randn(128, 64))
    expected = {
        O.SGD: [], O.Adagrad: ["sum_sq"], O.RMSprop: ["mean_sq"], O.Adam: ["t", "m", "v"], O.AdamW: ["t", "m", "v"]
    }
    for cls, keys in expected.items():
        opt = cls([w], lr=0.1)
        w.grad = torch.ones_like(w)
        opt.step()
        assert list(opt.state[w]) == keys
        assert all(v.shape == (128, 64) for v in opt.state[w].values() if torch.is_tensor(v))
    momentum = O.SGD([w], lr=0.1, momentum=0.9)
    momentum.step()
    assert momentum.state[w]["velocity"].shape == (128, 64)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: O.SGD(p, lr=-0.1), "lr must be >= 0; got -0.1"),
        (lambda p: O.SGD(p, lr=0.1, momentum=-0.5), "momentum must be >= 0; got -0.5"),
        (lambda p: O.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum needs momentum > 0"),
        (lambda p: O.Adagrad(p, lr=-1.0), "lr must be >= 0; got -1.0"),
        (lambda p: O.Adagrad(p, eps=-1e-10), "eps must be >= 0"),
        (lambda p: O.RMSprop(p, alpha=1.0), r"alpha must be in \[0, 1\); got 1.0"),
        (lambda p: O.RMSprop(p, weight_decay=-1.0), "weight_decay must be >= 0"),
        (lambda p: O.Adam(p, lr=-1e-3), "lr must be >= 0; got -0.001"),
        (lambda p: O.Adam(p, betas=(1.0, 0.999)), r"beta1 must be in \[0, 1\); got 1.0"),
        (lambda p: O.Adam(p, betas=(0.9, -0.1)), r"beta2 must be in \[0, 1\); got -0.1"),
        (lambda p: O.AdamW(p, betas=(0.9, 1.5)), r"beta2 must be in \[0, 1\); got 1.5"),
        (lambda p: O.AdamW(p, lr=float("nan")), "lr must be >= 0; got nan"),
    ],
)
def test_invalid_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make([torch.nn.Parameter(torch.zeros(2))])


def test_ravine_zigzag_and_momentum():
    gd = O.optimize_path(O.ravine, (-9.0, 1.0), O.SGD, steps=100, lr=0.18)
    mom = O.optimize_path(O.ravine, (-9.0, 1.0), O.SGD, steps=100, lr=0.02, momentum=0.9)
    assert gd.shape == (101, 2) and mom.shape == (101, 2)

    def zigzags(path):
        dy = path[1:, 1] - path[:-1, 1]
        return int((dy[1:] * dy[:-1] < 0).sum())

    assert zigzags(gd) == 99  # every step across flips sign
    assert zigzags(mom) < zigzags(gd) / 2 and abs(mom[-1, 0]) < abs(gd[-1, 0])


def test_adagrad_first_step_is_lr_in_every_coordinate():
    path = O.optimize_path(O.ravine, (-9.0, 1.0), O.Adagrad, steps=1, lr=1.0)
    torch.testing.assert_close((path[1] - path[0]).abs(), torch.ones(2, dtype=torch.float64), rtol=1e-8, atol=1e-8)


def test_adam_first_step_is_lr_and_adamw_decay_is_decoupled():
    p = torch.nn.Parameter(torch.tensor([2.0]))
    adam = O.Adam([p], lr=0.1)
    p.grad = torch.tensor([4.0])
    adam.step()
    assert p.item() == pytest.approx(1.9, abs=1e-6)
    final = {}
    for cls in (O.Adam, O.AdamW):
        for wd in (1e-2, 1e-4):
            q = torch.nn.Parameter(torch.tensor([1.0]))
            opt = cls([q], lr=1e-2, weight_decay=wd)
            for _ in range(100):
                q.grad = torch.zeros(1)
                opt.step()
            final[cls, wd] = q.item()
    assert final[O.AdamW, 1e-2] == pytest.approx((1 - 1e-4) ** 100, rel=1e-5)
    assert final[O.AdamW, 1e-4] == pytest.approx((1 - 1e-6) ** 100, rel=1e-5)
    # Adam + L2 normalises the decay gradient away: the strength barely matters
    assert final[O.Adam, 1e-2] < 0.5 and final[O.Adam, 1e-2] == pytest.approx(final[O.Adam, 1e-4], abs=1e-3)


def test_every_surface_has_its_minimum_where_the_docstring_says():
    for surface, minimum in [(O.ravine, (0.0, 0.0)), (O.saddle, (0.0, 1.0)), (O.rosenbrock, (1.0, 1.0))]:
        p = torch.tensor(minimum, dtype=torch.float64, requires_grad=True)
        surface(p).backward()
        assert p.grad.abs().max() < 1e-12
