"""The API reference is complete: every public name has a docstring and an autodoc entry.

A public name is one a module lists in ``__all__``. Its docstring is its own ``__doc__``
(a class's, not the one ``@dataclass`` writes, nor one inherited from ``nn.Module``);
for a constant, a ``#:`` comment above it, which autodoc shows. Its API entry is an
autodoc directive in ``docs/api.md`` or ``docs/api/*.md``: an ``autoclass`` /
``autofunction`` / ``autodata`` naming it (or the same object under another name, such
as ``refmodels.create_model`` for ``refmodels.registry.create_model``), or an
``automodule`` of its module with ``:members:``, which autodoc expands to the module's
``__all__`` (constants only when they carry a ``#:`` comment).

No Sphinx build here: the directives are read from the pages' text, and the docs build
(warnings as errors) renders them.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from sphinx.pycode import ModuleAnalyzer

import refmodels

DOCS = Path(__file__).resolve().parents[1] / "docs"
API_PAGES = [DOCS / "api.md", *sorted((DOCS / "api").glob("*.md"))]
DIRECTIVE = re.compile(r"^\.\. auto(\w+)::[ \t]*(\S+)[ \t]*\n((?:[ \t]+:[\w-]+:.*\n?)*)", re.M)


def modules():
    names = ["refmodels"] + [m.name for m in pkgutil.walk_packages(refmodels.__path__, "refmodels.")]
    return [importlib.import_module(n) for n in names if not n.endswith("__main__")]


def public_names():
    """(module, name, object) for every name in every module's __all__."""
    return [(mod, name, getattr(mod, name)) for mod in modules() for name in getattr(mod, "__all__", ())]


def is_code(obj) -> bool:
    return inspect.isclass(obj) or inspect.isroutine(obj)


def attr_docs(module_name: str) -> set[str]:
    """Module-level names with a ``#:`` doc comment (what autodoc documents for a constant)."""
    return {name for (scope, name) in ModuleAnalyzer.for_module(module_name).find_attr_docs() if scope == ""}


def has_docstring(mod, name, obj) -> bool:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__") or ""
        if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
            return False  # the signature @dataclass writes when the class has no docstring
        return bool(doc.strip())
    if inspect.isroutine(obj):
        return bool((obj.__doc__ or "").strip())
    return name in attr_docs(mod.__name__)


def resolve(path: str):
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def directives():
    """(page, kind, target, options) for every autodoc directive on the API pages."""
    out = []
    for page in API_PAGES:
        for kind, target, block in DIRECTIVE.findall(page.read_text()):
            options = dict(re.findall(r":([\w-]+):[ \t]*(.*)", block))
            out.append((page.relative_to(DOCS).as_posix(), kind, target, options))
    return out


def documented():
    """(ids of documented objects, (module, name) pairs of documented constants)."""
    objects, pairs = set(), set()
    for _, kind, target, options in directives():
        if kind == "module":
            if "members" not in options:
                continue
            mod = importlib.import_module(target)
            listed = [n.strip() for n in options["members"].split(",") if n.strip()]
            listed = listed or list(getattr(mod, "__all__", ()))
            excluded = {n.strip() for n in options.get("exclude-members", "").split(",")}
            documented_attrs = attr_docs(target)
            for name in listed:
                obj = getattr(mod, name)
                if name in excluded:
                    continue
                if is_code(obj):
                    objects.add(id(obj))
                elif name in documented_attrs:
                    pairs.add((target, name))
        elif kind in ("class", "function", "exception", "decorator"):
            objects.add(id(resolve(target)))
        elif kind == "data":
            module, _, name = target.rpartition(".")
            pairs.add((module, name))
    return objects, pairs


def test_every_module_with_public_names_is_found():
    names = {mod.__name__ for mod, _, _ in public_names()}
    assert {"refmodels.registry", "refmodels.tracing", "refmodels.parity", "refmodels.vision.resnet",
            "refmodels.nlp.attention", "refmodels.rl.ppo", "refmodels.foundations.lstm"} <= names


def test_every_public_name_has_a_docstring():
    missing = sorted(f"{mod.__name__}.{name}" for mod, name, obj in public_names() if not has_docstring(mod, name, obj))
    assert not missing, (
        "public names (in __all__) without a docstring (classes, functions) or a '#:' comment (constants):\n  "
        + "\n  ".join(missing)
    )


def test_every_public_name_has_an_api_entry():
    objects, pairs = documented()
    missing = sorted(
        f"{mod.__name__}.{name}"
        for mod, name, obj in public_names()
        if not (id(obj) in objects if is_code(obj) else (mod.__name__, name) in pairs)
    )
    assert not missing, "public names with no autodoc entry in docs/api.md or docs/api/*.md:\n  " + "\n  ".join(missing)


def test_every_entry_names_something_real():
    for page, kind, target, _ in directives():
        if kind == "module":
            importlib.import_module(target)
        else:
            assert resolve(target) is not None, f"{page}: auto{kind}:: {target} names nothing"


def test_one_page_per_part_all_in_the_toctree():
    parts = {p.name for p in DOCS.iterdir()
             if p.is_dir() and any(p.glob("*.md")) and p.name not in ("api", "gallery") and not p.name.startswith("_")}
    pages = {p.stem for p in (DOCS / "api").glob("*.md")}
    assert parts <= pages, f"parts without an API page: {sorted(parts - pages)}"
    toctree = (DOCS / "api.md").read_text()
    assert all(f"api/{page}" in toctree for page in pages), "list every docs/api/*.md in the toctree of docs/api.md"
    assert "api" in (DOCS / "index.md").read_text().split(":caption: Reference", 1)[1]


def test_no_module_is_documented_twice():
    """Two automodule entries for one module would make Sphinx warn (and -W fail the build)."""
    targets = [t for _, kind, t, _ in directives() if kind == "module"]
    assert len(targets) == len(set(targets)), sorted(t for t in targets if targets.count(t) > 1)
