"""``python -m research.report RESULTS_DIR``: the report command (research.cli.report)."""

from research.cli.report import main

if __name__ == "__main__":
    raise SystemExit(main())
