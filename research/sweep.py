"""``python -m research.sweep SPEC.yaml``: the sweep command (it lives in research.cli.sweep)."""

from research.cli.sweep import main

if __name__ == "__main__":
    raise SystemExit(main())
