"""``refmodels`` on the command line: list the registry, trace a model, compare it with its twin.

::

    refmodels list [PATTERN]                            # names; PATTERN is a substring or a glob
    refmodels trace NAME [--input 1,3,224,224] [--depth K]
    refmodels compare NAME                              # parity against the production twin

Also ``python -m refmodels ...``. ``trace`` builds the model on the ``meta`` device, so
a 300-million-parameter model is counted in a second without its memory. Mistakes the
library reports as ``ValueError`` (an unknown name, a shape the model refuses) print one
line on stderr and exit with status 2, like a usage error.

>>> main(["list", "resnet1"])
resnet101
resnet152
resnet18
0
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 1,3,224,224; got {text!r}") from None
    if any(d < 1 for d in shape):
        raise argparse.ArgumentTypeError(f"every dimension must be at least 1; got {text!r}")
    return shape


def _list(args: argparse.Namespace) -> int:
    import refmodels

    names = refmodels.list_models()
    if args.pattern:
        glob = any(c in args.pattern for c in "*?[")
        names = [n for n in names if (fnmatch.fnmatchcase(n, args.pattern) if glob else args.pattern in n)]
        if not names:
            print(f"refmodels: no model matches {args.pattern!r}", file=sys.stderr)
            return 1
    print("\n".join(names))
    return 0


def _trace(args: argparse.Namespace) -> int:
    import torch

    import refmodels
    from refmodels.catalog import default_input, make_input

    with torch.device("meta"):
        model = refmodels.create_model(args.name).eval()
    inputs = make_input(model, args.input) if args.input else default_input(args.name, model)
    result = refmodels.trace(model, *inputs)
    shapes = " + ".join("(" + ", ".join(map(str, x.shape)) + ")" for x in inputs)
    print(f"{args.name} on input {shapes}, counted on the meta device")
    print(result.upto(args.depth))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from refmodels.twins import rows_for, run_twin

    try:
        rows, note = rows_for(args.name)
    except ImportError as err:
        print(f"refmodels: compare needs the production libraries ({err.name} is missing): "
              "pip install 'refmodels[compare]'", file=sys.stderr)
        return 1
    if note:
        print(note, file=sys.stderr if not rows else sys.stdout)
    if not rows:
        return 1
    for row in rows:
        try:
            report = run_twin(row)
        except ImportError as err:
            print(f"refmodels: compare needs {err.name} for {row.key}: pip install 'refmodels[compare]'",
                  file=sys.stderr)
            return 1
        except AssertionError as err:
            print(f"{row.key} against {row.twin}: FAILED\n  {err}")
            return 1
        overrides = ", ".join(f"{k}={v}" for k, v in row.overrides.items())
        print(f"{row.key}{f' ({overrides})' if overrides else ''} against {row.twin}, converted by {row.converter}:")
        print("  " + str(report).replace("\n", "\n  "))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refmodels", description="List, trace and compare the refmodels presets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="the registered model names")
    p.add_argument("pattern", nargs="?", default="", help="keep names containing this text (or matching this glob)")
    p.set_defaults(func=_list)
    p = sub.add_parser("trace", help="shapes, parameters and MACs of every module (on the meta device)")
    p.add_argument("name")
    p.add_argument("--input", type=_shape, default=None, metavar="SHAPE",
                   help="input shape, comma-separated, e.g. 1,3,224,224 (default: the catalogue's default input)")
    p.add_argument("--depth", type=int, default=2, metavar="K", help="show modules at most K levels deep (default 2)")
    p.set_defaults(func=_trace)
    p = sub.add_parser("compare", help="parity against the production twin (timm, torchvision, torch)")
    p.add_argument("name")
    p.set_defaults(func=_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"refmodels {args.command}: error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
