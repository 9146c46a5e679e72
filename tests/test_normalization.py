"""Normalization layers against torch.nn (forward, backward, running statistics),
their bad-input errors, and the claims the normalization page makes."""

import math

import pytest
import torch
import torch.nn.functional as F

from refmodels.foundations.normalization import (
    BatchNorm,
    DeepMLP,
    GroupNorm,
    LayerNorm,
    ResidualStack,
    RMSNorm,
    make_norm,
)
from refmodels.parity import check_parity, randomize_constants_, scramble_one_

TOL = dict(rtol=1e-5, atol=1e-5)


def _run_pair(ours, theirs, batches):
    """Randomise torch's constants (gamma, beta, running mean and variance), copy them into
    ours, compare in evaluation mode with the harness (which also proves that scrambling
    gamma breaks the comparison), then train on each batch and compare everything."""
    changed = randomize_constants_(theirs, seed=0)
    assert "weight" in changed or not any(n == "weight" for n, _ in theirs.named_parameters())
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    check_parity(ours, theirs, batches[0], atol=1e-5, scramble="weight")
    ours.train()
    theirs.train()
    for x in batches:
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = ours(xa), theirs(xb)
        torch.testing.assert_close(ya, yb, **TOL)
        upstream = torch.randn_like(ya)
        ours.zero_grad()
        theirs.zero_grad()
        ya.backward(upstream)
        yb.backward(upstream)
        torch.testing.assert_close(xa.grad, xb.grad, **TOL)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-4, msg=name)
    for a, b in zip(ours.buffers(), theirs.buffers()):
        torch.testing.assert_close(a, b, **TOL)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(batches[0]), theirs(batches[0]), **TOL)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 7), (3, 5, 4, 6)])
def test_batchnorm_equals_torch(shape, momentum):
    torch.manual_seed(1)
    batches = [torch.randn(shape) * (i + 1) + i for i in range(4)]
    theirs = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(5, momentum=momentum)
    _run_pair(BatchNorm(5, momentum=momentum), theirs, batches)


@pytest.mark.parametrize("normalized_shape, shape", [(8, (2, 3, 8)), ((4, 8), (2, 4, 8)), (16, (5, 16))])
def test_layernorm_equals_torch(normalized_shape, shape):
    torch.manual_seed(2)
    batches = [torch.randn(shape) * 3 + 1 for _ in range(2)]
    _run_pair(LayerNorm(normalized_shape), torch.nn.LayerNorm(normalized_shape), batches)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
@pytest.mark.parametrize("shape", [(3, 8, 5, 6), (3, 8, 7)])
def test_groupnorm_equals_torch(groups, shape):
    torch.manual_seed(3)
    batches = [torch.randn(shape) * 2 - 1 for _ in range(2)]
    _run_pair(GroupNorm(groups, 8), torch.nn.GroupNorm(groups, 8), batches)


@pytest.mark.parametrize("eps", [None, 1e-6])
@pytest.mark.parametrize("normalized_shape, shape", [(8, (2, 3, 8)), ((4, 8), (2, 4, 8))])
def test_rmsnorm_equals_torch(normalized_shape, shape, eps):
    torch.manual_seed(4)
    batches = [torch.randn(shape) * 3 + 1 for _ in range(2)]
    _run_pair(RMSNorm(normalized_shape, eps=eps), torch.nn.RMSNorm(normalized_shape, eps=eps), batches)


@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (BatchNorm(5), torch.nn.BatchNorm2d(5), (3, 5, 4, 6)),
        (LayerNorm(8), torch.nn.LayerNorm(8), (2, 3, 8)),
        (GroupNorm(2, 8), torch.nn.GroupNorm(2, 8), (3, 8, 5, 6)),
        (RMSNorm(8), torch.nn.RMSNorm(8), (2, 3, 8)),
    ],
    ids=["batchnorm", "layernorm", "groupnorm", "rmsnorm"],
)
def test_parity_check_fails_when_gamma_is_scrambled(ours, theirs, shape):
    torch.manual_seed(7)
    x = torch.randn(shape) * 2 + 1
    randomize_constants_(theirs, seed=0)
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    check_parity(ours, theirs, x, atol=1e-5, scramble=False)  # passes before
    scramble_one_(ours, "weight")
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, theirs, x, atol=1e-5, scramble=False)


def test_batchnorm_eval_uses_the_randomised_running_statistics():
    """A BatchNorm that ignored running_mean / running_var in eval mode would pass a comparison
    at torch's initial values (0 and 1); with randomised statistics it cannot."""
    torch.manual_seed(8)
    theirs = torch.nn.BatchNorm2d(5)
    assert set(randomize_constants_(theirs, seed=0)) == {"weight", "bias", "running_mean", "running_var"}
    ours = BatchNorm(5)
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x = torch.randn(3, 5, 4, 6)
    check_parity(ours, theirs, x, atol=1e-5, scramble=False)
    with torch.no_grad():
        ours.running_var.fill_(1.0)
        ours.running_mean.zero_()
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, theirs, x, atol=1e-5, scramble=False)


def test_batchnorm_running_statistics_follow_the_documented_update():
    torch.manual_seed(5)
    x = torch.randn(4, 3, 6, 6) * 2 + 1
    bn = BatchNorm(3, momentum=0.1)
    bn(x)
    n = x.numel() // 3
    torch.testing.assert_close(bn.running_mean, 0.1 * x.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(bn.running_var, 0.9 + 0.1 * x.var(dim=(0, 2, 3), unbiased=False) * n / (n - 1))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    before = bn.running_mean.clone()
    bn(x)
    assert torch.equal(bn.running_mean, before) and bn.num_batches_tracked.item() == 1


def test_statistic_shapes_are_the_ones_the_page_names():
    x = torch.randn(4, 8, 16, 16)
    tokens = torch.randn(4, 16, 768)
    assert BatchNorm(8).batch_stats(x)[0].shape == (1, 8, 1, 1)
    assert GroupNorm(4, 8).stats(x)[0].shape == (4, 4, 1)
    assert LayerNorm(768).stats(tokens)[0].shape == (4, 16, 1)
    assert RMSNorm(768).stats(tokens).shape == (4, 16, 1)
    for layer, inp in [(BatchNorm(8), x), (GroupNorm(4, 8), x), (LayerNorm(768), tokens), (RMSNorm(768), tokens)]:
        assert layer(inp).shape == inp.shape


def test_only_batchnorm_mixes_the_samples_of_a_batch():
    torch.manual_seed(6)
    a, b = torch.randn(4, 8, 5, 5), torch.randn(4, 8, 5, 5)
    b[0] = a[0]
    bn = BatchNorm(8)
    moved = (bn(a)[0] - bn(b)[0]).abs().max().item()
    assert moved > 0.01, f"BatchNorm output of the shared sample moved {moved:.3g}; claim: it moves"
    for layer in (GroupNorm(2, 8), LayerNorm((8, 5, 5)), RMSNorm((8, 5, 5))):
        assert torch.equal(layer(a)[0], layer(b)[0])


def test_parameter_counts():
    assert sum(p.numel() for p in BatchNorm(8).parameters()) == 16
    assert sum(b.numel() for b in BatchNorm(8).buffers()) == 17  # mean, var, counter
    assert sum(p.numel() for p in GroupNorm(4, 8).parameters()) == 16  # per channel, not per group
    assert sum(p.numel() for p in LayerNorm(768).parameters()) == 2 * 768
    assert sum(p.numel() for p in RMSNorm(768).parameters()) == 768


@pytest.mark.parametrize(
    "layer, x, match",
    [
        (BatchNorm(8), torch.randn(4, 6, 5), r"BatchNorm expects 8 channels in dim 1, \(B, 8, \.\.\.\); got shape \(4, 6, 5\)"),
        (BatchNorm(8), torch.randn(8), r"BatchNorm expects \(B, C, \.\.\.\) with C=8; got a 1-d tensor"),
        (BatchNorm(8), torch.randn(1, 8), r"more than one value per channel"),
        (GroupNorm(2, 8), torch.randn(2, 4, 3), r"GroupNorm expects 8 channels"),
        (LayerNorm(16), torch.randn(2, 3, 15), r"LayerNorm expects the last dims to be \(16,\).*got \(2, 3, 15\)"),
        (RMSNorm((4, 8)), torch.randn(2, 8, 4), r"RMSNorm expects the last dims to be \(4, 8\)"),
        (DeepMLP(64, 8, 2, 10), torch.randn(3, 63), r"DeepMLP expects \(B, 64\); got shape \(3, 63\)"),
        (ResidualStack(64, 8, 2, 10, "pre"), torch.randn(3, 2, 64), r"ResidualStack expects \(B, 64\)"),
    ],
)
def test_bad_input_raises_value_error(layer, x, match):
    with pytest.raises(ValueError, match=match):
        layer(x)


def test_bad_configuration_raises_value_error():
    with pytest.raises(ValueError, match="divisible by num_groups: got 6 and 4"):
        GroupNorm(4, 6)
    with pytest.raises(ValueError, match="norm must be one of"):
        make_norm("instance", 8)
    with pytest.raises(ValueError, match="placement must be 'pre' or 'post'"):
        ResidualStack(4, 8, 2, 3, "middle")
    with pytest.raises(ValueError):
        BatchNorm(0)


def test_deep_plain_net_shrinks_the_signal_and_normalization_restores_it():
    """The page's first cell: the plain 10-layer net forgets its input layer by layer."""
    from sklearn.datasets import load_digits

    x = torch.tensor(load_digits().data[:256], dtype=torch.float32) / 16
    torch.manual_seed(0)
    plain = DeepMLP(64, 64, 10, 10, norm="none")
    torch.manual_seed(0)
    normed = DeepMLP(64, 64, 10, 10, norm="layer")
    with torch.no_grad():
        h_plain, h_norm = plain.body(x), normed.body(x)
    # the plain net's output barely depends on the digit; with LayerNorm it still does
    lost = math.log10(x.std(dim=0).mean() / h_plain.std(dim=0).mean())
    kept = (h_norm.std(dim=0).mean() / x.std(dim=0).mean()).item()
    assert lost > 2, f"plain net: spread across digits falls 10^{lost:.1f}; claim: over 10^2"
    assert kept > 0.1, f"LayerNorm net keeps {kept:.3f} of the input's spread; claim: over 0.1"


def test_prenorm_stream_grows_and_keeps_the_shortcut_untouched():
    torch.manual_seed(0)
    stack = ResidualStack(16, 16, 6, 4, "pre")
    x = torch.randn(32, 16)
    sizes = []
    hooks = [b.register_forward_pre_hook(lambda m, a: sizes.append(a[0].pow(2).mean().sqrt().item()))
             for b in stack.blocks]
    F.cross_entropy(stack(x), torch.randint(0, 4, (32,))).backward()
    for h in hooks:
        h.remove()
    assert sizes[-1] > sizes[0], f"pre-norm stream RMS {sizes[0]:.3f} -> {sizes[-1]:.3f}; claim: grows"
    post = ResidualStack(16, 16, 6, 4, "post")
    with torch.no_grad():
        out = post.blocks[0](torch.randn(32, 16) * 5)
    torch.testing.assert_close(out.pow(2).mean(-1), torch.ones(32), rtol=1e-3, atol=1e-3)  # renormalized
