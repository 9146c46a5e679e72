"""Converters from production checkpoints (timm, ...) to refmodels models."""

from refmodels.convert.core import load_mapped, perturb_, rename
from refmodels.convert.timm import from_timm
from refmodels.convert.torchvision import from_torchvision

__all__ = ["from_timm", "from_torchvision", "load_mapped", "perturb_", "rename"]
