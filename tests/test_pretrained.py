"""The packaged EfficientNet-Lite0 weights are genuine ImageNet weights."""

import torch

from refmodels.data import load_photo, to_model_input
from refmodels.pretrained import efficientnet_lite0_imagenet


def test_lite0_recognises_the_photos():
    from timm.data import ImageNetInfo

    model = efficientnet_lite0_imagenet()
    assert sum(p.numel() for p in model.parameters()) == 4_652_008
    info = ImageNetInfo()
    x = torch.cat([to_model_input(load_photo(n), size=224) for n in ("chelsea", "coffee")])
    # to_model_input normalises with ImageNet statistics; undo, then scale to [-1, 1]
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    x = (x * std + mean - 0.5) / 0.5
    with torch.no_grad():
        top5 = model(x).topk(5).indices
    cat = [info.index_to_description(int(i)) for i in top5[0]]
    coffee = [info.index_to_description(int(i)) for i in top5[1]]
    assert any("cat" in c for c in cat[:2]), cat
    assert coffee[0] == "espresso", coffee


def test_frozen_features_refuse_colour_images():
    import pytest

    from refmodels.pretrained import frozen_features

    with pytest.raises(ValueError, match=r"grey crops \(N, 1, S, S\); got shape \(2, 3, 32, 32\)"):
        frozen_features(torch.nn.Identity(), torch.zeros(2, 3, 32, 32))
