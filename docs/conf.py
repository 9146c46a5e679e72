"""Sphinx configuration for Model Walkthroughs.

Build with ``make html`` from the repository root (see the Makefile for the flags:
``-W --keep-going -T -j 2``). Pages are MyST-NB text notebooks executed through
jupyter-cache; ``_ext/nbdeps.py`` re-executes a page or a gallery script when the
refmodels code it imported changes. Nothing here reaches the network.
"""

import json
import os
import re
import sys
from pathlib import Path

# Pages and gallery scripts run one torch thread each: with two kernels on two
# cores, two threads apiece ran many times slower. Set before any kernel starts.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Matplotlib and friends write caches under HOME; keep runs quiet and offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "Model Walkthroughs"
author = "The Model Walkthroughs authors"
copyright = "2026, " + author

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "sphinxcontrib.bibtex",
    "nbdeps",
    "ipckernels",  # page kernels on Unix sockets: no TCP port race between parallel pages
]

exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    # sphinx-gallery writes an .ipynb beside each generated page; myst-nb must not
    # claim it as a second source of the same document.
    "gallery/*.ipynb",
    "gallery/**/*.ipynb",
]

# -- MyST-NB: execute every page, cache the results, fail loudly -------------------
nb_execution_mode = "cache"
nb_execution_cache_path = os.environ.get("DOCS_CACHE_DIR", str(HERE / "_build" / ".jupyter_cache"))
nb_execution_raise_on_error = True  # a failing cell fails the build and names the page
nb_execution_show_tb = True  # ... and prints the cell's traceback in the log
nb_execution_timeout = 600
nb_merge_streams = True
myst_enable_extensions = ["amsmath", "colon_fence", "deflist", "dollarmath", "substitution"]
myst_heading_anchors = 3
nb_render_markdown_format = "myst"

# -- Gallery -----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../gallery"],
    "gallery_dirs": ["gallery"],
    "filename_pattern": r"plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "backreferences_dir": "_build/gen_modules/backreferences",
    "doc_module": ("refmodels",),
    "reset_modules": ("matplotlib", "nbdeps.gallery_reset"),
    "reset_modules_order": "both",
    "abort_on_example_error": True,
    "capture_repr": ("_repr_html_", "__repr__"),
}

# -- Bibliography: one for the whole site, one .bib file per part ------------------
bibtex_bibfiles = sorted(str(p.relative_to(HERE)) for p in (HERE / "bib").glob("*.bib"))
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# -- HTML ----------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "Model Walkthroughs"
html_static_path = ["_static"]
html_css_files = ["walkthroughs.css"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None

# MathJax from the site itself, so formulas render for a reader who is offline:
# the files ship in the sphinx-mathjax-offline wheel (MathJax 3, Apache-2.0).
import importlib.util  # noqa: E402

_mathjax_pkg = importlib.util.find_spec("sphinx-mathjax-offline")
if _mathjax_pkg is None or _mathjax_pkg.origin is None:
    raise RuntimeError("sphinx-mathjax-offline is not installed; run `make html` to install the docs extra")
html_static_path.append(str(Path(_mathjax_pkg.origin).parent / "static"))
mathjax_path = "mathjax/tex-chtml.js"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
suppress_warnings = ["mystnb.unknown_mime_type"]


# -- Build-time hooks ----------------------------------------------------------------
def _drop_cdn_scripts(app, docname, source):
    """sphinx-gallery's computation-times page pulls jQuery/DataTables from CDNs.
    Keep the page (a plain table), drop the remote scripts."""
    if docname.endswith("sg_execution_times"):
        source[0] = re.sub(r"  \.\. raw:: html\n.*?(?=  \.\. list-table::)", "", source[0], flags=re.S)


def _write_exec_report(app, exc):
    """Write _build/exec-report.json: each page's and gallery script's last run time."""
    if exc is not None:
        return
    from myst_nb.sphinx_ import NbMetadataCollector

    pages = {}
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            pages[docname] = {k: data.get(k) for k in ("runtime", "method", "succeeded", "mtime")}
    scripts = {}
    gallery_out = HERE / "gallery"
    for cost in sorted(gallery_out.rglob("*.cost.json")):
        scripts[str(cost.relative_to(gallery_out)).removesuffix(".cost.json") + ".py"] = json.loads(cost.read_text())
    report = {"pages": pages, "gallery": scripts}
    (Path(app.doctreedir).parent / "exec-report.json").write_text(json.dumps(report, indent=1))


_REMOTE_ASSET = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=[\"'](?:https?:)?//", re.I)


def _check_no_remote_assets(app, exc):
    """Fail the build if any page loads a script, stylesheet or image from another host:
    the site must work for a reader who is offline."""
    if exc is not None or app.builder.format != "html":
        return
    offenders = []
    for page in Path(app.outdir).rglob("*.html"):
        for match in _REMOTE_ASSET.finditer(page.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{page.relative_to(app.outdir)}: {match.group(0)[:80]}")
    if offenders:
        raise RuntimeError("pages load remote assets:\n  " + "\n  ".join(offenders[:20]))


def setup(app):
    app.connect("source-read", _drop_cdn_scripts)
    app.connect("build-finished", _write_exec_report)
    app.connect("build-finished", _check_no_remote_assets)
