"""ResNet against its paper (Table 1) and its production twin (timm).

The shapes here are the paper's, written once. Every shape the ResNet page shows is
computed from the same model, so a change of stride, width or expansion in
refmodels/vision/resnet.py fails these tests before it can change the page.
"""

import pytest
import timm
import torch

import refmodels
from refmodels.convert import load_mapped
from refmodels.parity import check_parity, randomize_constants_, scramble_one_
from refmodels.vision.resnet import PAPER_GMACS, BasicBlock, Bottleneck, ResNetConfig, Shortcut

PRESETS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
# Table 1: blocks per stage (conv2_x ... conv5_x)
PAPER_LAYERS = {
    "resnet18": (2, 2, 2, 2),
    "resnet34": (3, 4, 6, 3),
    "resnet50": (3, 4, 6, 3),
    "resnet101": (3, 4, 23, 3),
    "resnet152": (3, 8, 36, 3),
}
# Table 1 "output size" for a 224x224 image, with each stage's output channels.
PAPER_SIDES = {"stem.conv": 112, "stem": 56, "stages.0": 56, "stages.1": 28, "stages.2": 14, "stages.3": 7}
PAPER_CHANNELS = {"basic": (64, 128, 256, 512), "bottleneck": (256, 512, 1024, 2048)}


def meta_trace(name, size=224, **overrides):
    with torch.device("meta"):
        model = refmodels.create_model(name, **overrides)
    return model, refmodels.trace(model, (1, 3, size, size))


@pytest.mark.parametrize("name", PRESETS)
def test_stage_shapes_match_table_1(name):
    model, tr = meta_trace(name)
    assert model.cfg.layers == PAPER_LAYERS[name]
    assert [len(s) for s in model.stages] == list(PAPER_LAYERS[name])
    channels = PAPER_CHANNELS[model.cfg.block]
    assert tr["stem.conv"].output_shapes == ((1, 64, 112, 112),)
    assert tr["stem"].output_shapes == ((1, 64, 56, 56),)
    for i in range(4):
        side = PAPER_SIDES[f"stages.{i}"]
        assert tr[f"stages.{i}"].output_shapes == ((1, channels[i], side, side),), f"stage {i + 1}"
    assert tr["pool"].output_shapes == ((1, channels[3], 1, 1),)
    assert tr["fc"].output_shapes == ((1, 1000),)


def test_resnet50_bottleneck_shapes_match_table_1():
    """conv2_x of ResNet-50: [1x1, 64; 3x3, 64; 1x1, 256] with a projection shortcut."""
    _, tr = meta_trace("resnet50")
    expected = {
        "stages.0.0.conv1": ((1, 64, 56, 56), (1, 64, 56, 56)),
        "stages.0.0.conv2": ((1, 64, 56, 56), (1, 64, 56, 56)),
        "stages.0.0.conv3": ((1, 64, 56, 56), (1, 256, 56, 56)),
        "stages.0.0.shortcut": ((1, 64, 56, 56), (1, 256, 56, 56)),
        "stages.0.0": ((1, 64, 56, 56), (1, 256, 56, 56)),
        # first block of conv3_x: the 3x3 (v1.5) and the shortcut halve the side
        "stages.1.0.conv1": ((1, 256, 56, 56), (1, 128, 56, 56)),
        "stages.1.0.conv2": ((1, 128, 56, 56), (1, 128, 28, 28)),
        "stages.1.0.conv3": ((1, 128, 28, 28), (1, 512, 28, 28)),
        "stages.1.0.shortcut": ((1, 256, 56, 56), (1, 512, 28, 28)),
    }
    for name, (inp, out) in expected.items():
        assert (tr[name].input_shapes[0], tr[name].output_shapes[0]) == (inp, out), name
    assert Bottleneck.expansion == 4 and BasicBlock.expansion == 1


def test_projection_shortcuts_only_where_shapes_change():
    model = refmodels.create_model("resnet50")
    names = [n for n, m in model.named_modules() if isinstance(m, Shortcut)]
    assert names == ["stages.0.0.shortcut", "stages.1.0.shortcut", "stages.2.0.shortcut", "stages.3.0.shortcut"]
    assert [n for n, m in refmodels.create_model("resnet34").named_modules() if isinstance(m, Shortcut)] == names[1:]


def test_plain_twin_has_no_shortcuts():
    plain = refmodels.create_model("resnet34", residual=False)
    assert all(block.shortcut is None for stage in plain.stages for block in stage)


def test_stride_placement_v1_matches_paper_cost():
    """v1 (paper) gives Table 1's multiply-adds; v1.5 (timm) costs more, as the page says."""
    for name in PRESETS:
        _, v15 = meta_trace(name)
        _, v1 = meta_trace(name, stride_in_3x3=False)
        assert round(v1.total_macs / 1e9, 1) == pytest.approx(PAPER_GMACS[name], abs=0.11), name
        if name in ("resnet18", "resnet34"):
            assert v1.total_macs == v15.total_macs
        else:
            assert v15.total_macs > v1.total_macs
    _, v15 = meta_trace("resnet50")
    assert round(v15.total_macs / 1e9, 1) == 4.1


@pytest.mark.parametrize("name", PRESETS)
def test_parameter_count_equals_timm_on_meta(name):
    with torch.device("meta"):
        ours = refmodels.create_model(name)
        theirs = timm.create_model(name, pretrained=False)
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters())
    if name == "resnet50":
        assert count == 25_557_032


def timm_twin(name, seed=0, train=False, **kwargs):
    """A random-init timm ResNet with every constant tensor randomised (timm zero-initialises
    the last BatchNorm scale of every block, which would silence every residual branch),
    and the refmodels model with its weights."""
    torch.manual_seed(seed)
    theirs = timm.create_model(name, pretrained=False, **kwargs).train(train)
    changed = randomize_constants_(theirs, seed=seed)
    return refmodels.from_timm(theirs), theirs, len(changed)


def scaled_atol(theirs, x, rel=1e-6):
    """A tolerance relative to the size of the logits: with randomised constants they
    reach ~1e3, where float32's spacing is ~1e-4, so a fixed 1e-4 would pass only on
    bit-identical results."""
    with torch.no_grad():
        return rel * theirs(x).abs().max().item()


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_logits_equal_timm_with_same_weights(name):
    ours, theirs, changed = timm_twin(name)
    assert not ours.training and changed > 0
    # timm's zero-init gammas are gone: every block's last BatchNorm scale is random now
    assert all(blk.bn3.weight.abs().min() > 0 if hasattr(blk, "bn3") else blk.bn2.weight.abs().min() > 0
               for stage in (theirs.layer1, theirs.layer2, theirs.layer3, theirs.layer4) for blk in stage)
    x = torch.randn(2, 3, 224, 224)
    # the weight scrambled for the can-fail proof sits inside a residual branch
    atol = scaled_atol(theirs, x)
    report = check_parity(ours, theirs, x, atol=atol, scramble="stages.2.1.conv2.weight", randomized=changed)
    assert report.scrambled_abs > 100 * report.atol


def test_train_mode_parity_with_timm():
    """BatchNorm with batch statistics and the backward pass agree too."""
    ours, theirs, changed = timm_twin("resnet18", train=True, num_classes=7)
    assert ours.training
    x = torch.randn(4, 3, 64, 64)
    atol = scaled_atol(theirs, x)
    check_parity(ours, theirs, x, atol=atol, randomized=changed)
    out_ours, out_theirs = ours(x), theirs(x)
    torch.testing.assert_close(out_ours, out_theirs, rtol=0, atol=atol)
    out_ours.square().sum().backward()
    out_theirs.square().sum().backward()
    torch.testing.assert_close(ours.stem.conv.weight.grad, theirs.conv1.weight.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours.stages[3][1].conv2.weight.grad, theirs.layer4[1].conv2.weight.grad,
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_parity_check_fails_when_one_inner_weight_is_scrambled(name):
    """The comparison can fail: one scrambled conv inside a residual branch breaks it."""
    ours, theirs, _ = timm_twin(name)
    scrambled = scramble_one_(ours, "stages.1.1.conv2.weight")
    assert scrambled == "stages.1.1.conv2.weight"
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, theirs, torch.randn(1, 3, 224, 224), atol=1e-4, scramble=False)


def test_timm_init_alone_cannot_see_the_residual_branches():
    """Why the constants are randomised: at timm's own init (zero last-BN gammas) scrambling
    every conv of a residual branch leaves the logits unchanged."""
    torch.manual_seed(0)
    theirs = timm.create_model("resnet50", pretrained=False).eval()
    ours = refmodels.from_timm(theirs)
    for stage in ours.stages:
        for blk in stage:
            for conv in (blk.conv1, blk.conv2, blk.conv3):
                torch.nn.init.normal_(conv.weight)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert (ours(x) - theirs(x)).abs().max().item() == 0.0


def test_from_timm_refuses_variants_it_does_not_build():
    with torch.device("meta"):
        deep_stem = timm.create_model("resnet50d", pretrained=False)
    with pytest.raises(ValueError, match="deep stem"):
        refmodels.from_timm(deep_stem)
    with pytest.raises(ValueError, match="no converter"):
        refmodels.from_timm(torch.nn.Linear(2, 2))


def test_load_mapped_names_every_mismatch():
    model = refmodels.create_model("resnet_tiny")
    state = dict(model.state_dict())
    state["fc.weight"] = torch.zeros(3, 3)
    del state["stem.conv.weight"]
    state["extra"] = torch.zeros(1)
    with pytest.raises(ValueError) as err:
        load_mapped(refmodels.create_model("resnet_tiny"), state, [(r"(.+)", r"\1")])
    message = str(err.value)
    assert "'fc.weight'" in message and "shape (3, 3)" in message
    assert "'stem.conv.weight' has no source" in message
    assert "'extra'" in message


def test_bad_input_raises_clear_value_error():
    model = refmodels.create_model("resnet_tiny").eval()
    with pytest.raises(ValueError, match=r"expects a batch of images \(B, 3, H, W\); got a 3-d tensor of shape \(3, 64, 64\)"):
        model(torch.zeros(3, 64, 64))
    with pytest.raises(ValueError, match=r"expects 3 input channels .* got shape \(1, 1, 64, 64\)"):
        model(torch.zeros(1, 1, 64, 64))


def test_config_validates_itself():
    with pytest.raises(ValueError, match="block must be"):
        ResNetConfig("wide", (1, 1, 1, 1))
    with pytest.raises(ValueError, match="one entry per stage"):
        ResNetConfig("basic", (1, 1, 1))
    with pytest.raises(ValueError, match=r"layers\[2\] must be a positive integer; got 0"):
        ResNetConfig("basic", (1, 1, 0, 1))
