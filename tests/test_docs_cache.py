"""The build never shows a stale output, and re-executes only what changed.

A small Sphinx project with the site's execution settings and ``docs/_ext/nbdeps.py``:
one MyST-NB page importing ``fakepkg.alpha`` and one gallery script importing
``fakepkg.beta``. Each execution appends a line to ``runs.txt``, so the test sees
exactly what ran in each build.
"""

import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CONF = """
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_nb", "sphinx_gallery.gen_gallery", "nbdeps"]
exclude_patterns = ["_build", "gallery/*.ipynb", "gallery/**/*.ipynb"]
nb_execution_mode = "cache"
nb_execution_cache_path = {cache!r}
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nbdeps_packages = ["fakepkg"]
sphinx_gallery_conf = {{
    "examples_dirs": ["../gallery"],
    "gallery_dirs": ["gallery"],
    "filename_pattern": "plot_",
    "reset_modules": ("nbdeps.gallery_reset",),
    "reset_modules_order": "both",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "parallel": 2,  # as the site: scripts run in worker processes
}}
"""

PAGE = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

# The page

{prose}

```{{code-cell}} ipython3
import pathlib
import fakepkg.alpha
with open({runs!r}, "a") as f:
    f.write("page\\n")
print(f"alpha={{fakepkg.alpha.VALUE}}")
```
{extra}
"""

SCRIPT = '''"""
The gallery script
==================

Imports fakepkg.beta only.
"""
import fakepkg.beta

with open({runs!r}, "a") as f:
    f.write("gallery\\n")
print(f"beta={{fakepkg.beta.VALUE}}")
'''


class Project:
    def __init__(self, root: Path):
        self.root = root
        self.runs = root / "runs.txt"
        (root / "fakepkg").mkdir()
        (root / "fakepkg" / "__init__.py").write_text("")
        self.set_module("alpha", 1)
        self.set_module("beta", 10)
        docs = root / "docs"
        docs.mkdir()
        (docs / "conf.py").write_text(
            CONF.format(ext=str(REPO / "docs" / "_ext"), cache=str(docs / "_build" / ".jupyter_cache"))
        )
        (docs / "index.md").write_text("# Test\n\n```{toctree}\npage\ngallery/index\n```\n")
        self.set_page("Prose, first version.")
        (root / "gallery").mkdir()
        (root / "gallery" / "README.rst").write_text("Gallery\n=======\n")
        (root / "gallery" / "plot_beta.py").write_text(SCRIPT.format(runs=str(self.runs)))

    def set_module(self, name: str, value: int) -> None:
        (self.root / "fakepkg" / f"{name}.py").write_text(f"VALUE = {value}\n")

    def set_page(self, prose: str, extra: str = "") -> None:
        text = PAGE.format(prose=prose, runs=str(self.runs), extra=extra)
        (self.root / "docs" / "page.md").write_text(text)

    def build(self) -> subprocess.CompletedProcess:
        docs = self.root / "docs"
        env = {**os.environ, "PYTHONPATH": str(self.root), "OMP_NUM_THREADS": "1"}
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", str(docs), str(docs / "_build" / "html")]
        cmd += ["-d", str(docs / "_build" / "doctrees"), "-W", "--keep-going", "-T", "-q"]
        return subprocess.run(cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=300)

    def ran(self) -> list[str]:
        return self.runs.read_text().split() if self.runs.exists() else []

    def html(self, name: str) -> str:
        return (self.root / "docs" / "_build" / "html" / name).read_text()


def ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.docs
def test_rebuilds_re_execute_exactly_what_changed(tmp_path):
    p = Project(tmp_path)

    ok(p.build())
    assert p.ran() == ["gallery", "page"]
    assert "alpha=1" in p.html("page.html") and "beta=10" in p.html("gallery/plot_beta.html")

    ok(p.build())  # nothing changed: nothing runs
    assert p.ran() == ["gallery", "page"]

    p.set_page("Prose, second version.")  # prose only: the page is re-read, not re-run
    ok(p.build())
    assert p.ran() == ["gallery", "page"]
    assert "second version" in p.html("page.html") and "alpha=1" in p.html("page.html")

    p.set_module("alpha", 2)  # the module the page imports: only the page re-runs
    ok(p.build())
    assert p.ran() == ["gallery", "page", "page"]
    assert "alpha=2" in p.html("page.html")

    p.set_module("beta", 11)  # the module the script imports: only the script re-runs
    ok(p.build())
    assert p.ran() == ["gallery", "page", "page", "gallery"]
    assert "beta=11" in p.html("gallery/plot_beta.html")

    ok(p.build())  # and then everything is cached again
    assert p.ran() == ["gallery", "page", "page", "gallery"]


@pytest.mark.docs
def test_a_failing_cell_fails_every_build_and_names_the_page(tmp_path):
    p = Project(tmp_path)
    ok(p.build())
    failing = '\n```{code-cell} ipython3\nraise ValueError("boom from the page")\n```\n'
    p.set_page("Prose.", extra=failing)
    for _ in range(2):  # a second, "up to date" build must not publish the broken page
        result = p.build()
        log = result.stdout + result.stderr
        assert result.returncode != 0
        assert "page.md" in log and "boom from the page" in log


def test_site_config_uses_the_mechanism():
    """The real docs/conf.py has the settings the project above proves."""
    conf = runpy.run_path(str(REPO / "docs" / "conf.py"))
    assert "nbdeps" in conf["extensions"] and "myst_nb" in conf["extensions"]
    assert conf["nb_execution_mode"] == "cache"
    assert conf["nb_execution_raise_on_error"] is True
    gallery = conf["sphinx_gallery_conf"]
    assert "nbdeps.gallery_reset" in gallery["reset_modules"] and gallery["reset_modules_order"] == "both"
    assert gallery["abort_on_example_error"] is True
    assert "gallery/**/*.ipynb" in conf["exclude_patterns"]
    assert not conf["mathjax_path"].startswith(("http:", "https:", "//"))
    makefile = (REPO / "Makefile").read_text()
    assert "-W" in makefile and "-T" in makefile


def test_gallery_script_names_are_unique():
    """nbdeps keys a gallery script's record by its file name."""
    names = [p.name for p in (REPO / "gallery").rglob("*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_pages_are_text_notebooks_without_downloads():
    for page in (REPO / "docs").rglob("*.md"):
        if "_build" in page.parts or "gallery" in page.parts:
            continue
        text = page.read_text()
        if "{code-cell}" not in text:
            continue
        assert "file_format: mystnb" in text, page
        for bad in ("!pip", "%pip", "urlretrieve", "requests.get(", "pretrained=True)\n"):
            code = [block for block in text.split("```{code-cell}")[1:]]
            assert not any(bad in block.split("```")[0] for block in code), f"{page}: {bad}"
