"""AlexNet against its paper (section 3, Figure 2) and its production twin (torchvision)."""

import pytest
import torch
import torchvision

import refmodels
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


def test_logits_equal_torchvision_with_same_weights():
    torch.manual_seed(0)
    theirs = torchvision.models.alexnet().eval()
    ours = refmodels.from_torchvision(theirs)
    assert not ours.training
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-4)


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
