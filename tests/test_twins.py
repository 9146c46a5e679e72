"""The production-twin table (refmodels/twins.py): every row passes parity, and each row can fail.

The model index (docs/models.md) and ``refmodels compare`` print these reports; these
tests hold the claims behind them: the converted twin *is* the preset (same config, same
tensor names and shapes), the outputs agree within the row's tolerance after every
constant tensor of the twin was randomised, and one scrambled inner weight breaks the
comparison far past that tolerance.
"""

import pytest
import torch

import refmodels
from refmodels.registry import FAMILIES
from refmodels.twins import TWINS, production_twin, rows_for, run_twin, twin_for

pytest.importorskip("timm")


@pytest.mark.parametrize("row", TWINS, ids=[t.key for t in TWINS])
def test_every_row_passes_parity(row):
    report = run_twin(row)
    assert report.max_abs <= row.atol
    assert report.scrambled_abs > 100 * row.atol
    assert report.scrambled is not None


@pytest.mark.parametrize("row", TWINS, ids=[t.key for t in TWINS])
def test_a_scrambled_weight_makes_the_row_fail(row):
    """The weight the row's can-fail proof scrambles, scrambled before the comparison: parity fails."""
    with pytest.raises(AssertionError, match="differ by"):
        run_twin(row, scramble_first=row.scramble)


@pytest.mark.parametrize("seed", [1, 2])
def test_small_rows_pass_under_other_seeds(seed):
    for row in TWINS:
        if row.small:
            run_twin(row, seed=seed)


def test_rows_name_registered_presets_and_families():
    names = set(refmodels.list_models())
    for row in TWINS:
        assert row.name in names and row.family in FAMILIES and row.name.startswith(row.family)
        assert row.library in ("timm", "torchvision", "torch") and row.converter


def test_a_twin_of_another_preset_is_refused():
    """The architecture check: a twin whose weights fit a different preset is caught."""
    from dataclasses import replace

    vit = next(t for t in TWINS if t.name == "vit_tiny")
    with pytest.raises(AssertionError, match="is not vit_tiny"):
        run_twin(replace(vit, overrides={"depth": 3}))


def test_lookup():
    assert twin_for("resnet50").name == "resnet_tiny"
    assert twin_for("mlp_digits") is None
    assert production_twin("resnet50") == 'timm.create_model("resnet50")'
    assert production_twin("lenet5") is None
    rows, note = rows_for("resnet50")
    assert [r.twin for r in rows] == ['timm.create_model("resnet50")'] and note is None
    # a small row that changes the config gives way to timm's own model of that name
    rows, note = rows_for("convnext_tiny")
    assert [r.twin for r in rows] == ['timm.create_model("convnext_tiny")'] and not rows[0].overrides
    keys = [r.key for r in rows_for("transformer_tiny")[0]]
    assert keys == ["transformer_tiny:encoder.0", "transformer_tiny:decoder.0"]
    rows, note = rows_for("lstm_digits")
    assert [r.key for r in rows] == ["lstm_tiny:encoder"] and "family's converter" in note
    assert rows_for("lenet5") == ([], rows_for("lenet5")[1]) and "no production twin" in rows_for("lenet5")[1]
    with pytest.raises(ValueError, match="unknown model 'resnet5'"):
        rows_for("resnet5")
    with pytest.raises(ValueError, match="no production twin"):
        run_twin("mlp_tiny")


def test_example_inputs_are_fresh_tensors():
    for row in TWINS:
        a, b = row.example(), row.example()
        assert all(isinstance(x, torch.Tensor) for x in a) and len(a) == len(b)
