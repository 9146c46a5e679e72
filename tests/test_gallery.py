"""Every gallery script runs on its own, the way a reader runs a downloaded copy:
copied out of the repository into an empty folder and run with the installed package.

Trainings are not repeated: scripts get trained models through ``refmodels.cache``,
and the runs here share the build's artifact directory (``docs/_build/artifacts``,
filled by `make html`, which CI runs first), so a script that trains in the build
loads the same artifact here. The script's own code still runs top to bottom."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "gallery").rglob("plot_*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_script_runs_standalone(script, tmp_path):
    copy = tmp_path / script.name
    shutil.copy(script, copy)
    env = {**os.environ, "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1"}
    env.setdefault("REFMODELS_ARTIFACTS", str(REPO / "docs" / "_build" / "artifacts"))
    result = subprocess.run(
        [sys.executable, str(copy)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_script_follows_the_gallery_format(script):
    text = script.read_text()
    assert text.startswith('"""'), "a docstring title comes first"
    title = text.split('"""')[1].strip().splitlines()
    assert len(title) >= 3 and set(title[1]) == {"="}, "the docstring starts with an underlined title"
    assert "# %%" in text, "blocks are separated by # %%"
    assert "import refmodels" in text or "from refmodels" in text, "models come from refmodels"
    assert "class " not in text or "nn.Module)" not in text, "never redefine a model in a gallery script"
