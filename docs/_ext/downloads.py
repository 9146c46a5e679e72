"""Every page downloads as an executed notebook and as a Python script.

myst-nb writes each page's executed notebook to ``_build/jupyter_execute/<page>.ipynb``.
When a page's HTML is written, this extension copies that notebook into the site's
``_sources/`` (without the build's hidden bookkeeping cell), writes the same cells as a
jupytext "percent" script beside it, and adds both to the theme's download menu next to
the ``.md`` source. ``tests/test_site_html.py`` checks that every page has both files and
that they hold the page's code cells, and runs the cheapest pages' scripts outside the
repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx

HIDDEN_PREFIX = "# nbdeps:"  # the build's dependency-recording cell (docs/_ext/nbdeps.py)


def reader_notebook(executed: Path) -> nbformat.NotebookNode:
    """The executed notebook as a reader gets it: outputs kept, build bookkeeping dropped."""
    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and c.source.lstrip().startswith(HIDDEN_PREFIX))]
    nb.metadata.pop("execution", None)
    return nb


def _write_downloads(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if app.builder.format != "html" or doctree is None:
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    import jupytext

    nb = reader_notebook(executed)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    script = nbformat.from_dict(nb)
    for cell in script.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    target.with_suffix(".py").write_text(jupytext.writes(script, fmt="py:percent"), encoding="utf-8")
    context["ipynb_source"] = f"{pagename}.ipynb"
    context["mw_py_source"] = f"{pagename}.py"


def _add_script_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """After the theme built its download menu: add the .py script beside the .ipynb."""
    script = context.get("mw_py_source")
    if not script:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(
                1,
                {
                    "type": "link",
                    "url": f"{context['pathto']('_sources', 1)}/{script}",
                    "text": ".py",
                    "icon": "fas fa-file-code",
                    "tooltip": "Download the page as a Python script",
                    "label": "download-script-button",
                },
            )


def setup(app: Sphinx) -> dict[str, Any]:
    # the theme adds its header buttons at priority 501
    app.connect("html-page-context", _write_downloads, priority=400)
    app.connect("html-page-context", _add_script_button, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
