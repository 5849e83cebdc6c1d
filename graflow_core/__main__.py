"""``python -m graflow_core``: the same as the ``graflow`` command."""

from graflow_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
