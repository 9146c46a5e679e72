"""Train once, reuse everywhere: a small on-disk cache of build artifacts.

A trained RL expert, a fine-tuned classifier, converted weights: each is produced by
code from some settings. :func:`cached` stores what a producer returns under a key
made of a name, the settings and the SHA-256 of the source files that produce it, so

- the first page, gallery script or test that needs an artifact produces it once and
  every later one loads it;
- changing the producing code (or a setting) changes the key, so a stale artifact is
  never served; the old file is simply no longer looked up;
- two processes that need the same artifact at the same moment (two pages built in
  parallel) do not both train: the second waits on a lock and then loads.

Where it lives: ``$REFMODELS_ARTIFACTS`` if set; inside a checkout of this repository,
``docs/_build/artifacts`` (under the build directory, so ``make clean`` empties it);
otherwise ``~/.cache/refmodels/artifacts``. Values are saved with ``torch.save``:
tensors, state dicts, numbers, strings, lists and dicts of them.

>>> import tempfile, os
>>> os.environ["REFMODELS_ARTIFACTS"] = tempfile.mkdtemp()
>>> calls = []
>>> def produce():
...     calls.append(1)
...     return {"answer": 42}
>>> cached("demo", produce, settings={"steps": 3})["answer"]
[artifact cache] produced demo (...)
42
>>> cached("demo", produce, settings={"steps": 3})["answer"]
[artifact cache] loaded demo (...)
42
>>> len(calls)  # produced once, loaded the second time
1
>>> _ = cached("demo", produce, settings={"steps": 4}, verbose=False); len(calls)  # new settings, new entry
2
>>> del os.environ["REFMODELS_ARTIFACTS"]
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import os
import sys
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import torch

__all__ = ["artifact_dir", "artifact_key", "cached"]

T = TypeVar("T")
_REPO = Path(__file__).resolve().parents[1]


def artifact_dir() -> Path:
    """The directory that holds the artifacts (created on demand)."""
    env = os.environ.get("REFMODELS_ARTIFACTS")
    if env:
        path = Path(env)
    elif (_REPO / "docs" / "conf.py").exists() and (_REPO / "pyproject.toml").exists():
        path = _REPO / "docs" / "_build" / "artifacts"
    else:
        path = Path.home() / ".cache" / "refmodels" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _source_file(obj: Any) -> Path:
    if isinstance(obj, (str, Path)):
        return Path(obj)
    if isinstance(obj, types.ModuleType):
        file = getattr(obj, "__file__", None)
    else:
        file = inspect.getsourcefile(obj)
    if not file:
        raise ValueError(f"cached() needs code with a source file; got {obj!r}")
    return Path(file)


def artifact_key(name: str, settings: dict, code: Iterable[Any]) -> str:
    """The hex key of an artifact: its name, its settings (as JSON) and its code's hashes."""
    digest = hashlib.sha256()
    digest.update(name.encode())
    digest.update(json.dumps(settings, sort_keys=True, default=repr).encode())
    digest.update(torch.__version__.encode())
    for path in sorted({_source_file(obj).resolve() for obj in code}):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def cached(
    name: str,
    producer: Callable[[], T],
    *,
    settings: dict | None = None,
    code: Iterable[Any] = (),
    verbose: bool = True,
) -> T:
    """Return ``producer()``, computed at most once per (name, settings, code).

    ``code``: the modules, functions or files whose source produces the artifact; the
    module that defines ``producer`` is always included. ``settings``: everything else
    that changes the result (steps, seeds, sizes), JSON-serialisable.
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"artifact name must be letters, digits, '-' or '_'; got {name!r}")
    settings = dict(settings or {})
    module = sys.modules.get(getattr(producer, "__module__", ""), None)
    sources = list(code)
    if module is not None and getattr(module, "__file__", None):
        sources.append(module)
    key = artifact_key(name, settings, sources)
    folder = artifact_dir()
    target = folder / f"{name}-{key}.pt"
    with open(folder / f"{name}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel build waits here instead of training twice
        if target.exists():
            if verbose:
                print(f"[artifact cache] loaded {name} ({key})")
            return torch.load(target, weights_only=False)
        value = producer()
        tmp = target.with_suffix(".tmp")
        torch.save(value, tmp)
        os.replace(tmp, target)
        if verbose:
            print(f"[artifact cache] produced {name} ({key})")
        return value
