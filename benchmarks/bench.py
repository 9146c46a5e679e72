"""Build and speed benchmark: `make bench` (or `python benchmarks/bench.py`).

Reports, on this machine:

1. the cold build time (docs/_build and the generated gallery removed first),
2. the no-change rebuild time,
3. a rebuild after editing one refmodels module (the edit is a comment, undone
   afterwards), with the pages and gallery scripts that re-executed,
4. each page's and gallery script's execution time (from docs/_build/exec-report.json),
5. refmodels vs production forward time for every pair in ``PAIRS``, on the same
   input, the same weights and the same number of threads.

This is a benchmark, not a test: it prints figures and never fails on a slow run.
Pass ``--skip-build`` for the forward-time rows only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"
SPHINX = [sys.executable, "-m", "sphinx", "-b", "html", str(DOCS), str(BUILD / "html"), "-d", str(BUILD / "doctrees")]
SPHINX += ["-W", "--keep-going", "-T", "-j", "2"]


@dataclass
class Pair:
    """One forward-time row: a refmodels model and its production twin, same weights."""

    label: str
    theirs: Callable  # () -> production model
    convert: Callable  # production model -> refmodels model with the same weights
    shape: tuple


def _timm(name):
    def make():
        import timm

        return timm.create_model(name, pretrained=False)

    return make


def _from_timm(model):
    import refmodels

    return refmodels.from_timm(model)


def _torchvision(name):
    def make():
        import torchvision

        return getattr(torchvision.models, name)()

    return make


def _from_torchvision(model):
    import refmodels

    return refmodels.from_torchvision(model)


PAIRS = [
    Pair("ResNet-50 (timm resnet50)", _timm("resnet50"), _from_timm, (1, 3, 224, 224)),
    Pair("ConvNeXt-T (timm convnext_tiny)", _timm("convnext_tiny"), _from_timm, (1, 3, 224, 224)),
    Pair("PoolFormer-S12 (timm poolformer_s12)", _timm("poolformer_s12"), _from_timm, (1, 3, 224, 224)),
    Pair("FastViT-T8 (timm fastvit_t8)", _timm("fastvit_t8"), _from_timm, (1, 3, 256, 256)),
    Pair("FastViT-SA12 (timm fastvit_sa12)", _timm("fastvit_sa12"), _from_timm, (1, 3, 256, 256)),
    Pair("EfficientViT-B0 (timm efficientvit_b0)", _timm("efficientvit_b0"), _from_timm, (1, 3, 224, 224)),
    Pair("EfficientViT-B1 (timm efficientvit_b1)", _timm("efficientvit_b1"), _from_timm, (1, 3, 224, 224)),
    Pair("ViT-B/16 (timm vit_base_patch16_224)", _timm("vit_base_patch16_224"), _from_timm, (1, 3, 224, 224)),
    Pair("AlexNet (torchvision alexnet)", _torchvision("alexnet"), _from_torchvision, (1, 3, 224, 224)),
]


def build(label: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(SPHINX, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"{label} build failed")
    return seconds


def exec_report() -> dict:
    return json.loads((BUILD / "exec-report.json").read_text())


def run_builds() -> None:
    shutil.rmtree(BUILD, ignore_errors=True)
    shutil.rmtree(DOCS / "gallery", ignore_errors=True)
    cold = build("cold")
    report = exec_report()
    warm = build("no-change")

    module = ROOT / "refmodels" / "vision" / "resnet.py"
    before = {d: v["mtime"] for d, v in exec_report()["pages"].items()}
    original = module.read_bytes()
    try:
        module.write_bytes(original + b"\n# benchmark edit\n")
        edited = build("module-edit")
        after = exec_report()
    finally:
        module.write_bytes(original)
    rerun_pages = [d for d, v in after["pages"].items() if v["mtime"] != before.get(d)]
    restore = build("restore")

    print("## Build\n")
    print("| build | seconds |\n|---|---|")
    print(f"| cold (nothing cached) | {cold:.1f} |")
    print(f"| no change | {warm:.1f} |")
    print(f"| after editing refmodels/vision/resnet.py | {edited:.1f} |")
    print(f"| after undoing the edit | {restore:.1f} |")
    print(f"\nre-executed after the edit: {', '.join(rerun_pages) or 'nothing'}\n")
    print_budget(report)


def print_budget(report: dict) -> None:
    """Every page and gallery script against its ceiling (docs/_ext/budget.py), with
    the running total against the book's cold-build budget."""
    sys.path.insert(0, str(DOCS / "_ext"))
    import budget

    print("## Budget (cold build)\n")
    print("| page | wall s | CPU s | ceiling s | running total s |\n|---|---|---|---|---|")
    total = 0.0
    for doc, v in sorted(report["pages"].items()):
        total += v["runtime"] or 0
        print(f"| {doc} | {v['runtime'] or 0:.1f} | {v.get('cpu_seconds') or 0:.1f} | {budget.page_ceiling(doc):.0f} | {total:.0f} |")
    print("\n| gallery script | wall s | CPU s | ceiling s | running total s |\n|---|---|---|---|---|")
    for script, v in sorted(report["gallery"].items()):
        total += v["wall_seconds"]
        print(f"| {script} | {v['wall_seconds']:.1f} | {v['cpu_seconds']:.1f} | {budget.script_ceiling(script):.0f} | {total:.0f} |")
    t = report.get("totals", {})
    print(
        f"\nexecution total {total:.0f} s (pages and scripts, one after another); this build "
        f"{t.get('build_wall_seconds', 0):.0f} s wall on 2 cores; book budget {budget.BOOK_COLD_BUILD:.0f} s cold wall"
    )
    over = budget.violations(report)
    print("over budget: " + ("; ".join(over) if over else "nothing"))


def forward_rows(threads: int, repeats: int) -> None:
    import torch
    import torch.utils.benchmark as tb

    torch.set_num_threads(threads)
    print(f"\n## Forward time, float32, {threads} thread(s), eval mode, median of {repeats} timings\n")
    print("| model | refmodels ms | production ms | ratio (ours / theirs) | max abs diff |\n|---|---|---|---|---|")
    for pair in PAIRS:
        torch.manual_seed(0)
        theirs = pair.theirs().eval()
        ours = pair.convert(theirs).eval()
        x = torch.randn(pair.shape)
        with torch.no_grad():
            diff = (ours(x) - theirs(x)).abs().max().item()
            times = {"ours": [], "theirs": []}
            for _ in range(repeats):  # interleaved, so drift on the machine hits both
                for key, model in (("ours", ours), ("theirs", theirs)):
                    timer = tb.Timer("m(x)", globals={"m": model, "x": x}, num_threads=threads)
                    times[key].append(timer.blocked_autorange(min_run_time=0.5).median)
        ms = {k: 1000 * sorted(v)[len(v) // 2] for k, v in times.items()}
        print(f"| {pair.label} | {ms['ours']:.1f} | {ms['theirs']:.1f} | {ms['ours'] / ms['theirs']:.2f} | {diff:.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-build", action="store_true", help="only the forward-time rows")
    parser.add_argument("--report", action="store_true", help="only the budget table of the last build")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.report:
        print_budget(exec_report())
        return
    if not args.skip_build:
        run_builds()
    forward_rows(args.threads, args.repeats)


if __name__ == "__main__":
    main()
