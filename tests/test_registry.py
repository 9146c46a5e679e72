import importlib
import subprocess
import sys

import pytest
import torch.nn as nn

import refmodels
from refmodels.registry import FAMILIES, _REGISTRY, register_model


def test_list_models_has_every_resnet_preset():
    assert {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet_tiny"} <= set(refmodels.list_models())
    assert refmodels.list_models("resnet") == sorted(n for n in refmodels.list_models() if n.startswith("resnet"))


def test_create_model_applies_overrides():
    assert refmodels.create_model("resnet_tiny", num_classes=3).fc.out_features == 3
    # a preset's own fields can be overridden too
    assert [len(s) for s in refmodels.create_model("resnet18", layers=(1, 1, 1, 1)).stages] == [1, 1, 1, 1]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"unknown model 'resnet05'.*did you mean.*resnet50"):
        refmodels.create_model("resnet05")


def test_duplicate_name_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_model("resnet50")(lambda **kw: nn.Identity())


def test_every_name_resolves_to_the_module_that_registers_it():
    """The lazy import table must send each preset name to its own family module."""
    for name in refmodels.list_models():
        matches = [p for p in FAMILIES if name.startswith(p)]
        assert matches, f"{name} has no family prefix in refmodels.registry.FAMILIES"
        assert FAMILIES[max(matches, key=len)] == _REGISTRY[name].__module__, name
    for module in FAMILIES.values():
        importlib.import_module(module)


def test_import_refmodels_loads_no_family():
    """Pages depend only on the families they use (docs/_ext/nbdeps.py relies on it)."""
    code = "import sys, refmodels; print(sorted(m for m in sys.modules if m.startswith('refmodels.vision')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
