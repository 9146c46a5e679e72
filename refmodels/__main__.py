"""``python -m refmodels``: the same command line as the ``refmodels`` script (:mod:`refmodels.cli`)."""

from refmodels.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
