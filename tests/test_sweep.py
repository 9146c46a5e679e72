"""Every registered tiny preset: forward shape, finite output, a gradient for every
parameter, deterministic evaluation, and no mixing between batch elements."""

import pytest
import torch

import refmodels

TINY = [name for name in refmodels.list_models() if name.endswith("_tiny")]

# family-specific example inputs; a new family adds its own entry
INPUTS = {
    "lstm": lambda model: torch.randn(2, 6, model.cfg.input_size),
    "mlp": lambda model: torch.randn(2, model.cfg.in_features),
    "resnet": lambda model: torch.randn(2, model.cfg.in_chans, 64, 64),
    # a tuple holds several positional inputs: (source ids, target ids)
    "transformer": lambda model: (torch.randint(1, model.cfg.vocab_size, (2, 7)), torch.randint(1, model.cfg.vocab_size, (2, 5))),
    "convnext": lambda model: torch.randn(2, model.cfg.in_chans, 32, 32),
    "poolformer": lambda model: torch.randn(2, model.cfg.in_chans, 64, 64),
    "fastvit": lambda model: torch.randn(2, model.cfg.in_chans, 64, 64),
    "efficientvit": lambda model: torch.randn(2, model.cfg.in_chans, 64, 64),
    "vit": lambda model: torch.randn(2, model.cfg.in_chans, model.cfg.img_size, model.cfg.img_size),
    "alexnet": lambda model: torch.randn(2, model.cfg.in_chans, 64, 64),
    "lenet": lambda model: torch.randn(2, model.cfg.in_chans, model.cfg.img_size, model.cfg.img_size),
}


def example_input(name, model):
    family = next(prefix for prefix in INPUTS if name.startswith(prefix))
    return INPUTS[family](model)


def test_every_family_has_a_tiny_preset():
    from refmodels.registry import FAMILIES

    assert {next(p for p in FAMILIES if n.startswith(p)) for n in TINY} == set(FAMILIES)


@pytest.mark.parametrize("name", TINY)
def test_tiny_preset(name):
    torch.manual_seed(0)
    model = refmodels.create_model(name)
    x = example_input(name, model)
    args = x if isinstance(x, tuple) else (x,)
    out = model(*args)
    assert out.shape[0] == args[0].shape[0] and torch.isfinite(out).all()
    out.float().square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reached {missing}"

    model.eval()
    with torch.no_grad():
        a, b = model(*args), model(*args)
        single = model(*(t[:1] for t in args))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(single, a[:1], rtol=1e-5, atol=1e-5)
