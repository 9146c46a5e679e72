"""The jaxtyping annotations in refmodels are checked during the test session
(the import hook in conftest.py); this proves the hook is live."""

import jaxtyping
import pytest
import torch

from refmodels.vision.resnet import Stem


def test_shape_annotations_are_checked():
    stem = Stem(3, 8)
    assert stem(torch.zeros(1, 3, 32, 32)).shape == (1, 8, 8, 8)
    with pytest.raises(jaxtyping.TypeCheckError):
        stem(torch.zeros(3, 32, 32))  # "B C H W" needs four axes
