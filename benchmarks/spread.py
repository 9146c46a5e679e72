"""Measure a page's printed numbers across seeds and torch CPU kernels.

An assert on a page states the prose's claim with a margin. The margin is measured
here, not guessed: this runs the page's code cells (or a gallery script) in a fresh
kernel under each ``ATEN_CPU_CAPABILITY`` (``default`` = portable kernels, ``avx2``)
and each seed offset (every literal seed in the code, ``manual_seed(N)``,
``default_rng(N)``, ``seed=N``, ``random.seed(N)``, becomes ``N + offset``), and prints
each run's outputs (or the first failing assert) so the spread can be read off.

    python benchmarks/spread.py docs/foundations/lstm.md --seeds 0 1 2 --kernels default avx2
    python benchmarks/spread.py gallery/rl/plot_ppo_clipping.py --grep ratio

Asserts keep running under other seeds; a failure is printed with its message.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)
# every literal seed: manual_seed(N), default_rng(N), RandomState(N), random.seed(N), seed=N
SEED = re.compile(r"((?:manual_seed|default_rng|RandomState|random\.seed)\(\s*|\bseed\s*=\s*)(\d+)")


def code_cells(path: Path) -> list[str]:
    """The code cells of a MyST-NB page (option lines dropped), or a script as one cell."""
    text = path.read_text()
    if path.suffix == ".py":
        return [text]
    cells = []
    for body in CELL.findall(text):
        lines = body.splitlines()
        if lines and lines[0].strip() == "---":  # YAML option block
            end = lines.index("---", 1)
            lines = lines[end + 1 :]
        lines = [ln for ln in lines if not re.match(r"^:[a-z-]+:", ln)]
        cells.append("\n".join(lines))
    return cells


def shift_seeds(code: str, offset: int) -> str:
    return SEED.sub(lambda m: m.group(1) + str(int(m.group(2)) + offset), code)


def run(path: Path, kernel: str, offset: int, timeout: int) -> tuple[float, list[str]]:
    import nbclient
    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
    import ipckernels

    ipckernels.install()
    nb = nbformat.v4.new_notebook()
    for cell in code_cells(path):
        nb.cells.append(nbformat.v4.new_code_cell(shift_seeds(cell, offset)))
    os.environ["ATEN_CPU_CAPABILITY"] = kernel
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.extend(o["text"].rstrip("\n").splitlines())
            elif o.get("output_type") == "error":
                out.append(f"!! {o['ename']}: {o['evalue']}")
            elif "text/plain" in o.get("data", {}):
                out.extend(str(o["data"]["text/plain"]).splitlines())
    return seconds, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seed offsets")
    parser.add_argument("--kernels", nargs="+", default=["default", "avx2"], help="ATEN_CPU_CAPABILITY values")
    parser.add_argument("--grep", default=None, help="show only output lines matching this regex (and errors)")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    if not args.path.exists():
        raise SystemExit(f"no such page or script: {args.path}")
    for kernel in args.kernels:
        for offset in args.seeds:
            seconds, lines = run(args.path, kernel, offset, args.timeout)
            print(f"=== {args.path} kernel={kernel} seed+{offset} ({seconds:.1f} s)")
            for line in lines:
                if args.grep is None or re.search(args.grep, line) or line.startswith("!!"):
                    print("   ", line)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
