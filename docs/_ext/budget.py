"""The book's build budget: every ceiling in one place, and the check over the report.

Measured on the reference machine (2 cores, no GPU), one torch thread per page kernel
and per gallery worker. The build writes ``docs/_build/exec-report.json`` with each
page's and gallery script's wall and CPU seconds; ``tests/test_budget.py`` fails when
an entry passes its ceiling, so a page that grows is caught in the change that grew it.
A new page that loads real pretrained weights, or a gallery script that trains, says so
here in the same change.
"""

from __future__ import annotations

# Wall-clock seconds.
PAGE = 60.0  # one page's execution
PAGE_REAL_WEIGHTS = 90.0  # a page that loads real pretrained weights
SCRIPT = 60.0  # one gallery script
TRAINING_SCRIPT = 240.0  # a gallery script that trains a model (listed below)
ALL_TRAINING_SCRIPTS = 600.0  # all training scripts together
BOOK_COLD_BUILD = 900.0  # the whole book, cold, on 2 cores (a target the report tracks)

# Pages (docnames) that load real pretrained weights.
REAL_WEIGHT_PAGES = {"foundations/alexnet-transfer"}
# Gallery scripts (paths under gallery/) that train a model and may take TRAINING_SCRIPT.
# The RL experts train here (the build runs the gallery before the pages, so the pages
# load the trained agents from the artifact cache).
TRAINING_SCRIPTS: set[str] = {"rl/plot_ppo_training.py", "rl/plot_td3_training.py", "rl/plot_sac_training.py"}


def page_ceiling(docname: str) -> float:
    return PAGE_REAL_WEIGHTS if docname in REAL_WEIGHT_PAGES else PAGE


def script_ceiling(script: str) -> float:
    return TRAINING_SCRIPT if script in TRAINING_SCRIPTS else SCRIPT


def violations(report: dict) -> list[str]:
    """Every entry of an exec report that is over its ceiling, as readable lines."""
    out = []
    for doc, entry in report.get("pages", {}).items():
        wall = entry.get("runtime") or 0.0
        if wall > page_ceiling(doc):
            out.append(f"page {doc}: {wall:.1f} s > ceiling {page_ceiling(doc):.0f} s")
    training = 0.0
    for script, entry in report.get("gallery", {}).items():
        wall = entry.get("wall_seconds") or 0.0
        if script in TRAINING_SCRIPTS:
            training += wall
        if wall > script_ceiling(script):
            out.append(f"gallery {script}: {wall:.1f} s > ceiling {script_ceiling(script):.0f} s")
    if training > ALL_TRAINING_SCRIPTS:
        out.append(f"all training scripts: {training:.1f} s > ceiling {ALL_TRAINING_SCRIPTS:.0f} s")
    return out
