"""Re-execute exactly the pages and gallery scripts whose code changed, never fewer.

The trap: myst-nb's cache (jupyter-cache) keys a page on the text of its code cells,
and sphinx-gallery reruns a script only when the script's own text changes. Edit a
``refmodels`` module that a page imports and both keep serving outputs computed by
the old code, with the old asserts "passing".

The fix, at the mechanism:

1. **Record what ran.** Every notebook page gets one hidden last cell (added when
   Sphinx reads the source; its text is fixed, so it never changes the cache key).
   It writes the files of the tracked packages the kernel imported, each with its
   SHA-256, plus the versions of the installed distributions the kernel loaded, to
   ``<cache>/deps/<docname>.json``. Gallery scripts run inside Sphinx, so a
   sphinx-gallery ``reset_modules`` hook unloads the tracked packages before each
   script (each script imports, and is charged with, exactly what it uses) and
   writes the same record beside the script's ``.md5`` afterwards.
2. **Check before reading.** At the start of every build, a page whose record no
   longer matches the files on disk (or that has no record) loses its jupyter-cache
   entry and is marked outdated, so Sphinx re-reads it and myst-nb re-executes it.
   A gallery script in the same state loses its ``.md5``, so sphinx-gallery reruns it.

Config: ``nbdeps_packages`` (default ``["refmodels"]``), the import names to track.
``tests/test_docs_cache.py`` builds a small project with this extension and checks
every case (no change, prose edit, module edit, failing cell).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# The recorder, shared by pages (run in the kernel) and gallery scripts (run here).
RECORDER = '''
def _nbdeps_record(path, packages, extra=None):
    import hashlib, importlib.metadata, json, pathlib, resource, site, sys
    # only distributions installed in the environment itself: copies vendored inside
    # other packages (setuptools/_vendor) are visible to a kernel but not to Sphinx,
    # and would make the page look stale on every build
    installed = {pathlib.Path(p).resolve() for p in site.getsitepackages() + [site.getusersitepackages()]}
    files = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and name.split(".")[0] in packages:
            files[str(pathlib.Path(file).resolve())] = hashlib.sha256(pathlib.Path(file).read_bytes()).hexdigest()
    top = {name.split(".")[0] for name in sys.modules}
    dists = importlib.metadata.packages_distributions()
    versions = {}
    for name in sorted(top & set(dists)):
        for dist in dists[name]:
            try:
                found = importlib.metadata.distribution(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
            if pathlib.Path(found.locate_file("")).resolve() in installed:
                versions[dist] = found.version
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    # CPU seconds this process spent (for a page: its whole kernel; the build report)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = {"files": files, "versions": versions, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)}
    record.update(extra or {})
    pathlib.Path(path).write_text(json.dumps(record, indent=1, sort_keys=True))
'''
exec(RECORDER)  # defines _nbdeps_record here too, for the gallery hook

CELL = """
```{{code-cell}} ipython3
:tags: [remove-cell]

# nbdeps: record the modules this page imported (docs/_ext/nbdeps.py)
{recorder}
_nbdeps_record({path!r}, {packages!r})
del _nbdeps_record
```
"""


def _stale_reason(record_file: Path) -> str | None:
    """Why the run recorded in ``record_file`` is out of date, or None if it is current."""
    if not record_file.is_file():
        return "no record of a previous run"
    try:
        record = json.loads(record_file.read_text())
    except (OSError, ValueError):
        return "unreadable record"
    for file, digest in record["files"].items():
        path = Path(file)
        if not path.is_file():
            return f"{file} is gone"
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return f"{path.name} changed"
    for dist, version in record["versions"].items():
        try:
            now = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            now = None
        if now != version:
            return f"{dist} {version} -> {now}"
    return None


# -- notebook pages -----------------------------------------------------------------


def _cache_dir(app: Sphinx) -> Path:
    return Path(app.config.nb_execution_cache_path).resolve()


def _record_file(app: Sphinx, docname: str) -> Path:
    return _cache_dir(app) / "deps" / f"{docname}.json"


def _is_notebook(app: Sphinx, docname: str) -> bool:
    path = Path(app.env.doc2path(docname))
    if path.suffix == ".ipynb":
        return True
    if path.suffix != ".md" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return "file_format: mystnb" in head or "kernelspec:" in head


def add_record_cell(app: Sphinx, docname: str, source: list[str]) -> None:
    """source-read: append the hidden recording cell to every MyST notebook page."""
    if Path(app.env.doc2path(docname)).suffix != ".md" or not _is_notebook(app, docname):
        return
    cell = CELL.format(
        recorder=RECORDER.strip(), path=str(_record_file(app, docname)), packages=list(app.config.nbdeps_packages)
    )
    source[0] = source[0].rstrip("\n") + "\n\n" + cell


def outdated_pages(app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """env-get-outdated: pages whose imported code changed; their cache entries go."""
    if app.config.nb_execution_mode != "cache":
        return []
    from jupyter_cache import get_cache

    stale: dict[str, str] = {}
    for docname in sorted(env.found_docs):
        if _is_notebook(app, docname):
            reason = _stale_reason(_record_file(app, docname))
            if reason is not None:
                stale[docname] = reason
    if not stale:
        return []
    cache = get_cache(str(_cache_dir(app)))
    by_uri = {str(Path(env.doc2path(d)).resolve()): d for d in stale}
    for record in cache.list_cache_records():
        if str(Path(record.uri).resolve()) in by_uri:
            cache.remove_cache(record.pk)
    for docname, reason in stale.items():
        if docname not in added:
            logger.info(f"[nbdeps] re-executing {docname}: {reason}")
    return [d for d in stale if d not in added and d not in changed]


# -- gallery scripts ----------------------------------------------------------------


def _gallery_pairs(app: Sphinx) -> list[tuple[Path, Path]]:
    """(examples dir, output dir) pairs of sphinx-gallery, as absolute paths."""
    conf = getattr(app.config, "sphinx_gallery_conf", None) or {}
    src = Path(app.srcdir)
    return [
        ((src / e).resolve(), (src / g).resolve())
        for e, g in zip(conf.get("examples_dirs", []), conf.get("gallery_dirs", []))
    ]


def stale_gallery_scripts(app: Sphinx) -> None:
    """builder-inited, before sphinx-gallery: drop the .md5 of scripts whose code changed."""
    for examples, output in _gallery_pairs(app):
        for script in sorted(examples.rglob("*.py")):
            target = output / script.relative_to(examples)
            md5 = Path(f"{target}.md5")
            if not md5.exists():
                continue
            reason = _stale_reason(Path(f"{target}.deps.json"))
            if reason is not None:
                logger.info(f"[nbdeps] re-running gallery script {script.name}: {reason}")
                md5.unlink()


_current_packages: list[str] = ["refmodels"]
_current_outputs: list[tuple[Path, Path]] = []


_script_start: dict[str, tuple[float, float]] = {}


def _outputs_from(gallery_conf: dict) -> list[tuple[Path, Path]]:
    """(examples dir, output dir) pairs from sphinx-gallery's own config: the hook also
    runs in the parallel gallery's worker processes, which never saw builder-inited."""
    if _current_outputs:
        return _current_outputs
    src = Path(gallery_conf.get("src_dir", "."))
    return [
        ((src / e).resolve(), (src / g).resolve())
        for e, g in zip(gallery_conf.get("examples_dirs", []), gallery_conf.get("gallery_dirs", []))
    ]


def gallery_reset(gallery_conf: dict, fname: str | None, when: str) -> None:
    """sphinx-gallery reset_modules hook (named by string in conf.py).

    before: unload the tracked packages, so the script imports what it uses afresh,
    and start the clocks.
    after: record what it imported, and its wall and CPU seconds, beside its .md5.
    Script names are unique across the gallery (a test checks it), so ``fname``
    identifies the script.
    """
    import time

    if fname is None:
        return
    # in a parallel gallery worker (a fresh process) the packages come from the environment
    env_packages = os.environ.get("NBDEPS_PACKAGES")
    packages = env_packages.split(",") if env_packages else _current_packages
    if when == "before":
        for name in [n for n in sys.modules if n.split(".")[0] in packages]:
            del sys.modules[name]
        _script_start[fname] = (time.perf_counter(), time.process_time())
        return
    wall0, cpu0 = _script_start.pop(fname, (time.perf_counter(), time.process_time()))
    timing = {"wall_seconds": round(time.perf_counter() - wall0, 2), "cpu_seconds": round(time.process_time() - cpu0, 2)}
    for examples, output in _outputs_from(gallery_conf):
        for script in examples.rglob(Path(fname).name):
            target = output / script.relative_to(examples)
            _nbdeps_record(f"{target}.deps.json", packages)  # noqa: F821
            Path(f"{target}.time.json").write_text(json.dumps(timing))


def _remember_gallery(app: Sphinx) -> None:
    _current_packages[:] = list(app.config.nbdeps_packages)
    # inherited by sphinx-gallery's worker processes, started after this hook
    os.environ["NBDEPS_PACKAGES"] = ",".join(app.config.nbdeps_packages)
    _current_outputs[:] = _gallery_pairs(app)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("nbdeps_packages", ["refmodels"], "env")
    app.connect("source-read", add_record_cell)
    app.connect("env-get-outdated", outdated_pages)
    # sphinx-gallery generates (and runs) the gallery in builder-inited at priority 500
    app.connect("builder-inited", _remember_gallery, priority=100)
    app.connect("builder-inited", stale_gallery_scripts, priority=100)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
