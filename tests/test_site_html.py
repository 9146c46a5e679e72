"""The built site as a reader gets it (run after `make html`, as CI does).

- every page offers its executed notebook and a Python script, which hold the
  page's code cells; the cheapest pages' scripts run top to bottom outside the
  repository;
- no page shows stderr output or a path of the build machine;
- without DOCS_REPOSITORY_URL, no page has repository, edit or launch buttons
  (nothing may point to a host that does not exist);
- the gallery offers a download of all its scripts.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
HTML = DOCS / "_build" / "html"
PAGES = sorted(p for p in DOCS.glob("*/*.md") if not p.parts[-2].startswith("_") and "file_format: mystnb" in p.read_text()[:500])
DOCNAMES = [str(p.relative_to(DOCS).with_suffix("")) for p in PAGES]
MACHINE_PATH = re.compile(r"(/work/main|/root/|/home/[a-z_][\w-]*/|site-packages|/tmp/)")

sys.path.insert(0, str(REPO / "benchmarks"))
from spread import code_cells  # noqa: E402  (the same cell reader the margin tool uses)

needs_build = pytest.mark.skipif(not (HTML / "index.html").is_file(), reason="no built site: run `make html` first")


def _norm(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


@needs_build
@pytest.mark.parametrize("doc", DOCNAMES)
def test_page_downloads_hold_its_code(doc):
    notebook = HTML / "_sources" / f"{doc}.ipynb"
    script = HTML / "_sources" / f"{doc}.py"
    assert notebook.is_file() and script.is_file(), f"{doc}: missing {notebook.name} or {script.name}"
    nb = nbformat.read(notebook, as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{doc}.ipynb has no outputs"
    text = _norm(script.read_text())
    source = (DOCS / f"{doc}.md")
    missing = [c[:60] for c in code_cells(source) if c.strip() and _norm(c) not in text]
    assert not missing, f"{doc}.py lacks code cells: {missing}"
    html = (HTML / f"{doc}.html").read_text()
    assert f"_sources/{doc}.ipynb" in html and f"_sources/{doc}.py" in html, f"{doc}: no .ipynb/.py in the download menu"


@needs_build
@pytest.mark.parametrize("doc", DOCNAMES)
def test_page_shows_no_stderr_and_no_machine_paths(doc):
    html = (HTML / f"{doc}.html").read_text()
    assert 'class="output stderr"' not in html, f"{doc} shows stderr output"
    # only the rendered body: the sidebar and scripts hold no build paths either
    hits = sorted({m.group(0) for m in MACHINE_PATH.finditer(html)})
    assert not hits, f"{doc} shows paths of the build machine: {hits}"


@needs_build
def test_no_repository_buttons_unless_configured():
    if os.environ.get("DOCS_REPOSITORY_URL"):
        pytest.skip("a repository URL is configured for this build")
    for doc in DOCNAMES:
        html = (HTML / f"{doc}.html").read_text()
        for marker in ("repository-button", "edit-button", "issues-button", "launch-buttons", "mybinder"):
            assert marker not in html, f"{doc}: {marker} present without a repository URL"


@needs_build
def test_gallery_offers_download_all():
    index = (HTML / "gallery" / "index.html").read_text()
    assert re.search(r'href="[^"]*\.zip"', index), "no download-all zip on the gallery index"


@needs_build
def test_cheapest_pages_run_downloaded(tmp_path):
    """A reader's copy, outside the repository: `python page.py` after installing refmodels."""
    report = json.loads((DOCS / "_build" / "exec-report.json").read_text())
    times = {d: v["runtime"] for d, v in report["pages"].items() if d in DOCNAMES and v.get("runtime")}
    for doc in sorted(times, key=times.get)[:2]:
        copy = tmp_path / f"{doc.replace('/', '_')}.py"
        shutil.copy(HTML / "_sources" / f"{doc}.py", copy)
        env = {**os.environ, "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1"}
        result = subprocess.run([sys.executable, str(copy)], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, f"{doc}.py failed outside the repository:\n{result.stderr[-2000:]}"
