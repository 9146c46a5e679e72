"""Input checks shared by the models: wrong input gets a ValueError that says what
was expected and what came in, before any layer sees it."""

import torch

__all__ = ["check_image", "check_positive"]


def check_image(x: torch.Tensor, *, channels: int, model: str, multiple_of: int = 1) -> None:
    """``x`` must be ``(B, channels, H, W)``, with H and W multiples of ``multiple_of``.

    >>> check_image(torch.zeros(3, 224, 224), channels=3, model="ResNet")
    Traceback (most recent call last):
      ...
    ValueError: ResNet expects a batch of images (B, 3, H, W); got a 3-d tensor of shape (3, 224, 224)
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{model} expects a tensor (B, {channels}, H, W); got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(
            f"{model} expects a batch of images (B, {channels}, H, W); got a {x.ndim}-d tensor of shape {tuple(x.shape)}"
        )
    if x.shape[1] != channels:
        raise ValueError(f"{model} expects {channels} input channels (B, {channels}, H, W); got shape {tuple(x.shape)}")
    if multiple_of > 1 and (x.shape[2] % multiple_of or x.shape[3] % multiple_of):
        raise ValueError(
            f"{model} expects H and W to be multiples of {multiple_of}; got {x.shape[2]}x{x.shape[3]}"
        )


def check_positive(**values: int) -> None:
    """Config validation: every named value must be a positive integer."""
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
