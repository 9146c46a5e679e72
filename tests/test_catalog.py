"""The catalogue behind the model index and ``refmodels trace`` (refmodels/catalog.py)."""

import pytest
import torch
from torch import nn

import refmodels
from refmodels import catalog, registry


@pytest.mark.parametrize("name, shapes", [
    ("resnet50", [(1, 3, 224, 224)]),
    ("fastvit_t8", [(1, 3, 256, 256)]),  # timm's default input for its namesake
    ("vit_tiny", [(1, 3, 32, 32)]),  # the config's img_size
    ("lenet5", [(1, 1, 32, 32)]),
    ("lstm_digits", [(1, catalog.SEQUENCE_LENGTH, 64)]),
    ("mlp_tiny", [(1, 8)]),
    ("transformer_tiny", [(1, catalog.SEQUENCE_LENGTH)] * 2),  # source and target ids
])
def test_default_inputs(name, shapes):
    inputs = catalog.default_input(name)
    assert [tuple(x.shape) for x in inputs] == shapes
    assert all(x.device.type == "meta" for x in inputs)
    if name.startswith("transformer"):
        assert all(x.dtype == torch.long for x in inputs)


def test_every_registered_model_is_counted_on_meta():
    for name in refmodels.list_models():
        c = catalog.count(name)
        assert c.error is None and c.macs > 0 and c.params > 0, (name, c.error)
    on_cpu = refmodels.trace(refmodels.create_model("resnet50"), (1, 3, 224, 224))
    assert catalog.count("resnet50").macs == on_cpu.total_macs


class _NeedsRealData(nn.Module):
    """A model whose forward reads a value, which the meta device cannot give."""

    def __init__(self):
        super().__init__()
        self.cfg = type("Cfg", (), {"in_features": 4})()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x) * x.sum().item()


def test_a_model_that_cannot_run_on_meta_says_why(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "needs_real_data", lambda **kw: _NeedsRealData())
    c = catalog.count("needs_real_data")
    assert c.params == 10 and c.macs is None and c.input_shapes == ((1, 4),)
    assert "meta" in c.error.lower() or "item" in c.error.lower() or "data" in c.error.lower()


def test_paper_figures_come_from_the_model_files():
    from refmodels.nlp.transformer import PAPER_PARAMS
    from refmodels.vision.convnext import PAPER
    from refmodels.vision.resnet import PAPER_GMACS
    from refmodels.vision.vit import PAPER_PARAMS_M

    assert catalog.paper_figures("resnet50") == {"gmacs": PAPER_GMACS["resnet50"]}
    assert catalog.paper_figures("convnext_tiny") == dict(zip(("params_m", "gmacs"), PAPER["convnext_tiny"]))
    assert catalog.paper_figures("vit_base_patch16_224") == {"params_m": PAPER_PARAMS_M["vit_base_patch16_224"]}
    assert catalog.paper_figures("transformer_base") == {"params_m": PAPER_PARAMS["transformer_base"] / 1e6}
    assert catalog.paper_figures("lenet5") == {} and catalog.paper_figures("resnet_tiny") == {}


def test_make_input_refuses_bad_shapes():
    model = refmodels.create_model("mlp_tiny")
    with pytest.raises(ValueError, match="positive integers"):
        catalog.make_input(model, (1, 0))
    with pytest.raises(ValueError, match="unknown model"):
        catalog.default_input("no_such_model")
