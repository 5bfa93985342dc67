"""Command line: python -m research.report RESULTS_DIR [--out FILE] [--png] (or
research-report).

Exit codes (research.cli.shell): 0 the report was written, 2 the folder is not a sweep's
results folder, or one of its files is damaged, changed since the sweep wrote it, or a
link (one ``error:`` line, no traceback), 3 the report could not be written,
130 interrupted, 143 terminated.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from research.cli import shell
from research.report.html import write_report
from research.report.png import write_heatmaps
from research.report.results_folder import ReportInputs
from research.results.store import REPORT


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command's options.

    >>> parse_args(["results/demo", "--png"]).png
    True
    """
    parser = argparse.ArgumentParser(
        prog=shell.prog("report"),
        description="Write a sweep's report.html: one self-contained page that opens offline.")
    parser.add_argument("results_dir", help="a sweep's results folder, e.g. results/default")
    parser.add_argument("--out", help="where to write the page (default: RESULTS_DIR/report.html)")
    parser.add_argument("--png", action="store_true",
                        help="also redraw the heatmap PNGs in RESULTS_DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; returns the exit code (the error line goes to stderr).

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     main(["no/such/folder"])
    2
    >>> err.getvalue().startswith("error: no/such/folder")
    True
    """
    args = parse_args(argv)
    return shell.run(lambda: _run(args), verbose=args.verbose,
                     command_line=argv is None)


def _run(args: argparse.Namespace) -> int:
    with shell.writing(args.out or Path(args.results_dir) / REPORT):
        path = write_report(args.results_dir, args.out)
    if args.png:
        inputs = ReportInputs.from_folder(args.results_dir)
        for png in write_heatmaps(inputs.summary, inputs.axes, args.results_dir):
            print(f"heatmap: {png}")
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
