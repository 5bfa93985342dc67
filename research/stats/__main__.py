"""``python -m research.stats SPEC``: the breakout statistics command (research.cli.stats)."""

from research.cli.stats import main

if __name__ == "__main__":
    raise SystemExit(main())
