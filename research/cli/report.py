"""Command line: python -m research.report RESULTS_DIR [--out FILE] [--png].

Exit codes: 0 the report was written, 2 the folder is not a sweep's results folder, or one
of its files is damaged, changed since the sweep wrote it, or a link (one ``error:`` line,
no traceback), 3 the report could not be written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from research.errors import ResearchError, printable, printable_logging
from research.report.html import write_report
from research.report.png import write_heatmaps
from research.report.results_folder import ReportInputs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m research.report",
        description="Write a sweep's report.html: one self-contained page that opens offline.")
    parser.add_argument("results_dir", help="a sweep's results folder, e.g. results/default")
    parser.add_argument("--out", help="where to write the page (default: RESULTS_DIR/report.html)")
    parser.add_argument("--png", action="store_true",
                        help="also redraw the heatmap PNGs in RESULTS_DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    printable_logging(logging.INFO if args.verbose else logging.WARNING)
    try:
        path = write_report(args.results_dir, args.out)
        if args.png:
            inputs = ReportInputs.from_folder(args.results_dir)
            for png in write_heatmaps(inputs.summary, inputs.axes, args.results_dir):
                print(f"heatmap: {png}")
    except ResearchError as exc:  # ReportError; a link or FIFO where a file goes (issue 19)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = printable(str(exc.filename or args.out or args.results_dir))
        print(f"error: cannot write the report: {exc.strerror or exc} ({where})",
              file=sys.stderr)
        return 3
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
