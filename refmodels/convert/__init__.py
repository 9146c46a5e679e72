"""Converters from production checkpoints (timm, ...) to refmodels models."""

from refmodels.convert.core import load_mapped, perturb_, rename
from refmodels.convert.timm import from_timm

__all__ = ["from_timm", "load_mapped", "perturb_", "rename"]
