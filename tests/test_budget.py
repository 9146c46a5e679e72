"""The build budget (docs/_ext/budget.py) over the last build's report.

`make html` writes docs/_build/exec-report.json with every page's and gallery
script's wall and CPU seconds; CI runs `make html` before `make test`, so this test
checks the build it just made. Without a report (tests run before any build) the
report test is skipped, saying why; the ceiling logic itself is always tested.
"""

import json
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import budget  # noqa: E402

REPORT = DOCS / "_build" / "exec-report.json"


def test_ceilings_catch_a_page_or_script_that_grew():
    ok = {"pages": {"a/b": {"runtime": budget.PAGE - 1}}, "gallery": {"x/plot_y.py": {"wall_seconds": 1.0}}}
    assert budget.violations(ok) == []
    slow_page = {"pages": {"a/b": {"runtime": budget.PAGE + 1}}, "gallery": {}}
    assert budget.violations(slow_page) == [f"page a/b: {budget.PAGE + 1:.1f} s > ceiling {budget.PAGE:.0f} s"]
    weights = next(iter(budget.REAL_WEIGHT_PAGES))
    assert budget.violations({"pages": {weights: {"runtime": budget.PAGE + 1}}, "gallery": {}}) == []
    slow_script = {"pages": {}, "gallery": {"x/plot_y.py": {"wall_seconds": budget.SCRIPT + 1}}}
    assert len(budget.violations(slow_script)) == 1


def test_last_build_is_within_budget():
    if not REPORT.is_file():
        pytest.skip(f"no build report at {REPORT}: run `make html` first")
    report = json.loads(REPORT.read_text())
    assert report["pages"], "the report lists no pages"
    print(json.dumps(report["totals"], indent=1))
    over = budget.violations(report)
    assert not over, "over budget:\n" + "\n".join(over)
    missing_cpu = [d for d, p in report["pages"].items() if p.get("cpu_seconds") is None]
    assert not missing_cpu, f"pages without a CPU-time record: {missing_cpu}"
