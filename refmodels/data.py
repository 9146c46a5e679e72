"""Real example inputs that ship inside PyPI packages: no download, ever.

Photos come from scikit-image's bundled samples (``skimage.data``), which are in
the public domain or openly licensed (see ``skimage.data`` for each one's source).
"""

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "center_crop", "load_photo", "to_model_input"]

# Per-channel statistics of ImageNet's training set (RGB, pixel values in [0, 1]),
# the normalisation every ImageNet-trained model in timm/torchvision expects.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
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
