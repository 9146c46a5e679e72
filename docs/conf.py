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
    "downloads",  # each page as an executed .ipynb and a .py script
    "readingtimes",  # the landing page's reading times, counted from the pages
    "sphinx_copybutton",
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
    # gallery sections in the book's order (new parts add their folder here)
    "subsection_order": ["../gallery/foundations", "../gallery/attention", "../gallery/vision", "../gallery/rl"],
    "download_all_examples": True,
    "remove_config_comments": True,
    "show_memory": False,
    "backreferences_dir": "_build/gen_modules/backreferences",
    "doc_module": ("refmodels",),
    "reset_modules": ("matplotlib", "nbdeps.gallery_reset"),
    "reset_modules_order": "both",
    "abort_on_example_error": True,
    "capture_repr": ("_repr_html_", "__repr__"),
    # both cores: scripts run in two worker processes, one torch thread each
    # (OMP_NUM_THREADS=1 above is inherited by the workers)
    "parallel": 2,
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
# one search box: the header's search button, not a second field in the sidebar
html_sidebars = {"**": ["navbar-logo.html", "icon-links.html", "sbt-sidebar-nav.html"]}

# -- Where the source lives ----------------------------------------------------------
# Set once here, or per build with DOCS_REPOSITORY_URL (forks, hosted builds), to turn
# on the repository, "edit this page", "open issue" and Binder launch buttons. Unset,
# the site shows none of them: no page may point to a host that does not exist.
repository_url = os.environ.get("DOCS_REPOSITORY_URL", "").rstrip("/")
repository_branch = os.environ.get("DOCS_REPOSITORY_BRANCH", "main")
if repository_url:
    html_theme_options.update(
        repository_url=repository_url,
        repository_branch=repository_branch,
        path_to_docs="docs",
        use_repository_button=True,
        use_edit_page_button=True,
        use_issues_button=True,
        # Binder opens the MyST pages as notebooks (jupytext); Colab cannot open .md
        launch_buttons={"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    )

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
autodoc_inherit_docstrings = False  # else every undocumented forward() repeats nn.Module.forward's docstring
suppress_warnings = ["mystnb.unknown_mime_type"]


# -- Build-time hooks ----------------------------------------------------------------
def _drop_cdn_scripts(app, docname, source):
    """sphinx-gallery's computation-times page pulls jQuery/DataTables from CDNs.
    Keep the page (a plain table), drop the remote scripts."""
    if docname.endswith("sg_execution_times"):
        source[0] = re.sub(r"  \.\. raw:: html\n.*?(?=  \.\. list-table::)", "", source[0], flags=re.S)


_BUILD_START = {}


def _start_clock(app):
    import time

    _BUILD_START["wall"] = time.time()


def _write_exec_report(app, exc):
    """Write _build/exec-report.json: each page's and gallery script's wall and CPU time
    (of the run that produced its outputs), the totals, this build's wall time, and the
    ceilings of _ext/budget.py; print the summary and any entry over its ceiling."""
    import time

    import budget
    from myst_nb.sphinx_ import NbMetadataCollector

    if exc is not None:
        return
    deps = Path(app.config.nb_execution_cache_path) / "deps"
    pages = {}
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            entry = {k: data.get(k) for k in ("runtime", "method", "succeeded", "mtime")}
            record = deps / f"{docname}.json"
            if record.is_file():
                entry["cpu_seconds"] = json.loads(record.read_text()).get("cpu_seconds")
            entry["ceiling"] = budget.page_ceiling(docname)
            pages[docname] = entry
    scripts = {}
    gallery_out = HERE / "gallery"
    for timing in sorted(gallery_out.rglob("*.py.time.json")):
        name = str(timing.relative_to(gallery_out)).removesuffix(".time.json")
        scripts[name] = {**json.loads(timing.read_text()), "ceiling": budget.script_ceiling(name)}
    page_wall = sum(p["runtime"] or 0 for p in pages.values())
    script_wall = sum(s["wall_seconds"] for s in scripts.values())
    report = {
        "pages": pages,
        "gallery": scripts,
        "totals": {
            "page_wall_seconds": round(page_wall, 1),
            "page_cpu_seconds": round(sum(p.get("cpu_seconds") or 0 for p in pages.values()), 1),
            "gallery_wall_seconds": round(script_wall, 1),
            "gallery_cpu_seconds": round(sum(s["cpu_seconds"] for s in scripts.values()), 1),
            "executed_this_build": sorted(d for d, p in pages.items() if p["method"] != "cache" or
                                          (p["mtime"] or 0) >= _BUILD_START.get("wall", 0)),
            "build_wall_seconds": round(time.time() - _BUILD_START.get("wall", time.time()), 1),
        },
        "budget": {
            "page": budget.PAGE,
            "page_real_weights": budget.PAGE_REAL_WEIGHTS,
            "script": budget.SCRIPT,
            "training_script": budget.TRAINING_SCRIPT,
            "all_training_scripts": budget.ALL_TRAINING_SCRIPTS,
            "book_cold_build": budget.BOOK_COLD_BUILD,
        },
        "over_budget": budget.violations({"pages": pages, "gallery": scripts}),
    }
    (Path(app.doctreedir).parent / "exec-report.json").write_text(json.dumps(report, indent=1))
    t = report["totals"]
    print(
        f"[budget] this build {t['build_wall_seconds']:.0f} s wall; execution recorded: pages "
        f"{t['page_wall_seconds']:.0f} s wall / {t['page_cpu_seconds']:.0f} s CPU, gallery "
        f"{t['gallery_wall_seconds']:.0f} s wall / {t['gallery_cpu_seconds']:.0f} s CPU; "
        f"book budget {budget.BOOK_COLD_BUILD:.0f} s cold wall"
    )
    for line in report["over_budget"]:
        print(f"[budget] OVER: {line}")
    _fill_budget_page(Path(app.outdir) / "build-stats.html", report)


def _fill_budget_page(page, report):
    """Write the budget table into the built build-stats page, between its markers."""
    import html

    if not page.is_file():
        return
    rows, total = [], 0.0
    for kind, entries, wall_key in (("page", report["pages"], "runtime"), ("gallery", report["gallery"], "wall_seconds")):
        for name, entry in sorted(entries.items()):
            wall = entry.get(wall_key) or 0.0
            total += wall
            over = ' style="color:#b00"' if wall > entry["ceiling"] else ""
            rows.append(
                f"<tr{over}><td>{kind}</td><td>{html.escape(name)}</td><td>{wall:.1f}</td>"
                f"<td>{entry.get('cpu_seconds') or 0:.1f}</td><td>{entry['ceiling']:.0f}</td><td>{total:.0f}</td></tr>"
            )
    t = report["totals"]
    table = (
        "<table class='table'><thead><tr><th>kind</th><th>name</th><th>wall s</th><th>CPU s</th>"
        "<th>ceiling s</th><th>running total s</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        f"<p>Execution total {total:.0f} s of wall time one after another; the last build took "
        f"{t['build_wall_seconds']:.0f} s on 2 cores against a cold-build budget of "
        f"{report['budget']['book_cold_build']:.0f} s. Over budget: "
        f"{html.escape('; '.join(report['over_budget'])) or 'nothing'}.</p>"
    )
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<!-- mw-budget-start -->.*?<!-- mw-budget-end -->",
                  lambda m: f"<!-- mw-budget-start -->{table}<!-- mw-budget-end -->", text, flags=re.S)
    page.write_text(text, encoding="utf-8")


_REMOTE_ASSET = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=[\"'](?:https?:)?//", re.I)


def _check_no_remote_assets(app, exc):
    """Fail the build if any page loads a script, stylesheet or image from another host:
    the site must work for a reader who is offline."""
    if exc is not None or app.builder.format != "html":
        return
    offenders = []
    # the copy button's and the theme's own scripts are local; only remote URLs count
    for page in Path(app.outdir).rglob("*.html"):
        for match in _REMOTE_ASSET.finditer(page.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{page.relative_to(app.outdir)}: {match.group(0)[:80]}")
    if offenders:
        raise RuntimeError("pages load remote assets:\n  " + "\n  ".join(offenders[:20]))


def setup(app):
    app.connect("source-read", _drop_cdn_scripts)
    app.connect("config-inited", lambda app, config: _start_clock(app))
    app.connect("build-finished", _write_exec_report)
    app.connect("build-finished", _check_no_remote_assets)
