"""The receptive-field calculator against hand-checked values and against gradients."""

import pytest
import torch
import torch.nn as nn

import refmodels
from refmodels.vision.receptive_field import (
    Layer,
    conv_layers,
    empirical_receptive_field,
    positive_twin,
    receptive_fields,
)


def test_recurrence_on_known_stacks():
    # three 3x3 convolutions see 7x7, the VGG argument
    assert [r.size for r in receptive_fields([Layer("c", 3)] * 3)] == [3, 5, 7]
    # dilation 2 turns a 3x3 kernel into an effective 5x5
    assert receptive_fields([Layer("d", 3, dilation=2)])[0].size == 5
    # AlexNet by hand: 11, +2*4, +4*8, +2*8, +2*16 x3, +2*16
    sizes = [r.size for r in receptive_fields(conv_layers(refmodels.create_model("alexnet"), (1, 3, 224, 224)))]
    assert sizes == [11, 19, 51, 67, 99, 131, 163, 195]


def test_alexnet_calculator_equals_gradient():
    model = refmodels.create_model("alexnet_tiny")
    rows = receptive_fields(conv_layers(model, (1, 3, 224, 224)))
    twin = positive_twin(model)
    assert empirical_receptive_field(lambda x: twin.convs(x), (1, 3, 263, 263)) == rows[-1].size == 195


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_resnet50_calculator_equals_gradient(stage):
    """Per stage of ResNet-50 (at a few channels: the field does not depend on width)."""
    model = refmodels.create_model("resnet50", stem_width=4, widths=(4, 4, 4, 4))
    layers = conv_layers(model, (1, 3, 224, 224), skip=("shortcut",))
    last = max(i for i, layer in enumerate(layers) if layer.name.startswith(f"stages.{stage}."))
    expected = receptive_fields(layers)[last].size
    twin = positive_twin(model)

    def upto_stage(x):
        return twin.stages[: stage + 1](twin.stem(x))

    side = 32 * (expected // 32 + 3)  # larger than the field, so no border cuts it
    assert empirical_receptive_field(upto_stage, (1, 3, side, side)) == expected


def test_skip_leaves_out_shortcuts_and_order_is_execution_order():
    layers = conv_layers(refmodels.create_model("resnet_tiny"), (1, 3, 64, 64), skip=("shortcut",))
    names = [layer.name for layer in layers]
    assert names[:5] == ["stem.conv", "stem.pool", "stages.0.0.conv1", "stages.0.0.conv2", "stages.0.0.conv3"]
    assert not any("shortcut" in n for n in names)


def test_non_square_kernels_are_refused():
    with pytest.raises(ValueError, match="only square kernels"):
        conv_layers(nn.Conv2d(1, 1, (3, 5)), (1, 1, 8, 8))
