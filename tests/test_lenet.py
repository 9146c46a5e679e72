"""LeNet-5 against the paper's layer sizes (section II.B); there is no production twin."""

import pytest
import torch

import refmodels
from refmodels.vision.lenet import LeNetConfig

# C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5, C5 120, F6 84, output 10
PAPER = {"C1": (1, 6, 28, 28), "S2": (1, 6, 14, 14), "C3": (1, 16, 10, 10), "S4": (1, 16, 5, 5)}


def test_feature_shapes_match_the_paper():
    model = refmodels.create_model("lenet5")
    feats = model.features(torch.zeros(1, 1, 32, 32))
    assert {k: tuple(v.shape) for k, v in feats.items()} == PAPER
    tr = refmodels.trace(model, (1, 1, 32, 32))
    assert tr["c5"].output_shapes == ((1, 120),)
    assert tr["f6"].output_shapes == ((1, 84),)
    assert tr["out"].output_shapes == ((1, 10),)


def test_parameter_count():
    model = refmodels.create_model("lenet5")
    per_layer = {n: sum(p.numel() for p in m.parameters()) for n, m in model.named_children()}
    # C1 6*(25+1); C3 fully connected 16*(6*25+1) (the paper's partial table: 1,516); C5 120*(400+1)
    assert (per_layer["c1"], per_layer["c3"], per_layer["c5"], per_layer["f6"]) == (156, 2416, 48120, 10164)
    assert sum(per_layer.values()) == 61_706


def test_trains_on_digits():
    from refmodels.vision.digits import fit_and_score, load_digits, split

    x, y = load_digits(size=32)
    test_idx, pool_idx = split(len(x), n_test=300)
    torch.manual_seed(0)
    acc = fit_and_score(refmodels.create_model("lenet5", act="relu", pool="max"), x, y, pool_idx[:300], test_idx,
                        steps=60)
    # measured over torch seeds 0-2, portable and AVX2 kernels: 0.900..0.920
    assert acc > 0.8, f"LeNet-5 held-out accuracy {acc:.3f} after 60 steps, claim: above 0.8"


def test_bad_input_and_config():
    model = refmodels.create_model("lenet5")
    with pytest.raises(ValueError, match="LeNet expects 32x32 images; got 28x28"):
        model(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"LeNet expects 1 input channels"):
        model(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="act must be"):
        LeNetConfig(act="sigmoid")
    with pytest.raises(ValueError, match="multiple of 4 and at least 16; got 30"):
        LeNetConfig(img_size=30)
