"""refmodels: small, readable reference implementations of landmark deep-learning models.

    >>> import refmodels
    >>> model = refmodels.create_model("resnet50")
    >>> print(refmodels.trace(model, (1, 3, 224, 224)).upto(1))   # doctest: +SKIP

``import refmodels`` loads only the core (registry, tracing, converters); a model
family is imported when one of its presets is first created.
"""

from refmodels.convert import from_timm, from_torchvision
from refmodels.registry import create_model, list_models, register_model
from refmodels.tracing import Trace, TraceRow, trace

__all__ = ["Trace", "TraceRow", "create_model", "from_timm", "from_torchvision", "list_models", "register_model", "trace"]
__version__ = "0.1.0"
