"""Real example inputs that ship inside PyPI packages: no download, ever.

Photos come from scikit-image's bundled samples (``skimage.data``), which are in
the public domain or openly licensed (see ``skimage.data`` for each one's source).
"""

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "center_crop", "load_photo", "photo_crops", "to_model_input"]

#: Per-channel statistics of ImageNet's training set (RGB, pixel values in [0, 1]),
#: the normalisation every ImageNet-trained model in timm/torchvision expects.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
#: ImageNet's per-channel standard deviations (RGB, pixel values in [0, 1]).
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_photo(name: str = "chelsea") -> np.ndarray:
    """A bundled scikit-image photo as an (H, W, 3) uint8 array ("chelsea", "astronaut", "coffee", ...)."""
    import skimage.data

    loader = getattr(skimage.data, name, None)
    if loader is None:
        raise ValueError(f"skimage.data has no sample photo named {name!r}")
    image = np.asarray(loader())
    if image.ndim != 3 or image.shape[2] < 3:
        raise ValueError(f"expected an RGB photo (H, W, 3); skimage.data.{name}() has shape {image.shape}")
    return image[..., :3]


def center_crop(image: np.ndarray) -> np.ndarray:
    """The largest centred square of an (H, W, ...) image: what the model sees."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


def to_model_input(image: np.ndarray, size: int = 224) -> torch.Tensor:
    """Center-crop to a square, resize to ``size`` x ``size``, scale to [0, 1], normalise.

    (H, W, 3) uint8 -> (1, 3, size, size) float32, the input an ImageNet classifier expects.

    >>> to_model_input(np.zeros((300, 451, 3), dtype=np.uint8), size=224).shape
    torch.Size([1, 3, 224, 224])
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image; got shape {image.shape}")
    square = center_crop(image)
    x = torch.from_numpy(np.ascontiguousarray(square)).permute(2, 0, 1).float().div(255)  # (3, s, s)
    x = F.interpolate(x[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def photo_crops(names: tuple[str, ...], side: int = 64, per_class: int = 20, seed: int = 0,
                half: str = "left") -> tuple[torch.Tensor, torch.Tensor]:
    """A small real classification set: random ``side`` x ``side`` grey crops of bundled photos.

    The class of a crop is the photo it was cut from. Crops come from the ``half``
    ("left" or "right") of each photo, so a training set from one half and a test set
    from the other never share a pixel. Returns (N, 1, side, side) floats in [0, 1]
    and (N,) labels.

    >>> x, y = photo_crops(("brick", "grass"), side=32, per_class=3)
    >>> tuple(x.shape), y.tolist()
    ((6, 1, 32, 32), [0, 0, 0, 1, 1, 1])
    """
    import skimage.data

    if half not in ("left", "right"):
        raise ValueError(f"half must be 'left' or 'right'; got {half!r}")
    gen = np.random.default_rng(seed)
    images, labels = [], []
    for label, name in enumerate(names):
        image = np.asarray(getattr(skimage.data, name)(), dtype=np.float32) / 255
        if image.ndim == 3:
            image = image[..., :3].mean(-1)  # RGB -> grey, so colour alone cannot give the class away
        w = image.shape[1] // 2
        image = image[:, :w] if half == "left" else image[:, w:]
        if min(image.shape) < side:
            raise ValueError(f"{name}: half of the photo ({image.shape}) is smaller than a {side}x{side} crop")
        for _ in range(per_class):
            top = gen.integers(0, image.shape[0] - side + 1)
            left = gen.integers(0, image.shape[1] - side + 1)
            images.append(image[top : top + side, left : left + side])
            labels.append(label)
    return torch.from_numpy(np.stack(images))[:, None], torch.tensor(labels)
