"""AlexNet against its paper (section 3, Figure 2) and its production twin (torchvision)."""

import pytest
import torch
import torchvision

import refmodels
from refmodels.parity import check_parity, randomize_constants_, scramble_one_
from refmodels.vision.alexnet import AlexNetConfig

# torchvision's widths; the paper's are 96, 256, 384, 384, 256
TV_SHAPES = {
    "convs.conv1.conv": (1, 64, 55, 55),  # the paper's 55x55 maps (Figure 2)
    "convs.conv1": (1, 64, 27, 27),
    "convs.conv2.conv": (1, 192, 27, 27),
    "convs.conv2": (1, 192, 13, 13),
    "convs.conv3": (1, 384, 13, 13),
    "convs.conv4": (1, 256, 13, 13),
    "convs.conv5.conv": (1, 256, 13, 13),
    "convs.conv5": (1, 256, 6, 6),
    "pool": (1, 256, 6, 6),
    "classifier.fc6": (1, 4096),
    "classifier.fc7": (1, 4096),
    "classifier.fc8": (1, 1000),
}


def meta_trace(name, size=224, **overrides):
    with torch.device("meta"):
        model = refmodels.create_model(name, **overrides)
    return model, refmodels.trace(model, (1, 3, size, size))


def test_shapes_match_torchvision_and_figure_2():
    _, tr = meta_trace("alexnet")
    for name, shape in TV_SHAPES.items():
        assert tr[name].output_shapes == (shape,), name
    _, paper = meta_trace("alexnet_paper")
    widths = [paper[f"convs.conv{i}.conv"].output_shapes[0][1] for i in range(1, 6)]
    assert widths == [96, 256, 384, 384, 256]
    assert paper["convs.conv1.conv"].output_shapes == ((1, 96, 55, 55),)
    assert paper["convs.conv5"].output_shapes == ((1, 256, 6, 6),)


def test_parameter_counts():
    with torch.device("meta"):
        ours = refmodels.create_model("alexnet")
        theirs = torchvision.models.alexnet()
        paper = refmodels.create_model("alexnet_paper")
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters()) == 61_100_840
    # Caffe's BVLC reference AlexNet (grouped convolutions): the paper's "60 million"
    assert sum(p.numel() for p in paper.parameters()) == 60_965_224


def _twins(seed=0):
    """torchvision's AlexNet with every constant tensor randomised, and ours converted from it."""
    torch.manual_seed(seed)
    theirs = torchvision.models.alexnet().eval()
    randomize_constants_(theirs, seed=seed)
    return refmodels.from_torchvision(theirs), theirs


def test_logits_equal_torchvision_with_same_weights():
    ours, theirs = _twins()
    assert not ours.training
    x = torch.randn(2, 3, 224, 224)
    # random AlexNet logits are ~1e-2, hence the small tolerance; the harness also proves
    # that scrambling one inner weight moves them by more than 100 x atol
    report = check_parity(ours, theirs, x, atol=1e-6)
    assert report.scrambled_abs > 100 * report.atol, report


def test_parity_check_fails_when_one_inner_weight_is_scrambled():
    ours, theirs = _twins()
    name = scramble_one_(ours)
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, theirs, torch.randn(2, 3, 224, 224), atol=1e-6, scramble=False)
    assert name.startswith("convs.")  # an inner convolution, not the stem or the head


def test_transfer_features_are_cached_and_load_identically(tmp_path, monkeypatch, capsys):
    """refmodels.cache: the page's frozen features are produced once, then loaded bit for bit."""
    import refmodels.data
    import refmodels.pretrained
    from refmodels.cache import cached
    from refmodels.pretrained import transfer_features

    monkeypatch.setenv("REFMODELS_ARTIFACTS", str(tmp_path))
    settings = dict(names=["brick", "grass"], side=32, train=dict(per_class=2, seed=0), test=dict(per_class=2, seed=1),
                    control=dict(seed=0))
    calls = []

    def produce():
        calls.append(1)
        return transfer_features(**settings)

    code = [refmodels.pretrained, refmodels.data]
    first = cached("test-lite0-features", produce, settings=settings, code=code)
    second = cached("test-lite0-features", produce, settings=settings, code=code)
    out = capsys.readouterr().out.splitlines()
    assert len(calls) == 1 and out[0].startswith("[artifact cache] produced") and out[1].startswith("[artifact cache] loaded")
    assert first["x_train"].shape == (4, 1, 32, 32) and first["features"]["pretrained"]["train"].shape == (4, 1280)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(first[key], second[key]), key
    for net in ("pretrained", "random"):
        for split in ("train", "test"):
            assert torch.equal(first["features"][net][split], second["features"][net][split]), (net, split)
    assert not torch.equal(first["features"]["pretrained"]["train"], first["features"]["random"]["train"])


def test_from_torchvision_refuses_other_models():
    with pytest.raises(ValueError, match="no converter for torchvision model class"):
        refmodels.from_torchvision(torch.nn.Linear(2, 2))


def test_bad_input_raises_clear_value_error():
    model = refmodels.create_model("alexnet_tiny").eval()
    with pytest.raises(ValueError, match=r"AlexNet expects 3 input channels \(B, 3, H, W\); got shape \(1, 1, 64, 64\)"):
        model(torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"at least 63x63 pixels; got 62x64"):
        model(torch.zeros(1, 3, 62, 64))
    assert model(torch.zeros(1, 3, 63, 63)).shape == (1, 10)


def test_config_validates_itself():
    with pytest.raises(ValueError, match="one entry per convolution"):
        AlexNetConfig(widths=(1, 2, 3))
    with pytest.raises(ValueError, match="divisible by groups: got widths\\[0\\]=63 and groups=2"):
        AlexNetConfig(widths=(63, 64, 64, 64, 64), groups=2)
    with pytest.raises(ValueError, match="dropout must be in"):
        AlexNetConfig(dropout=1.0)
