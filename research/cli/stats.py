"""Command line: python -m research.stats SPEC [--json] [--out DIR] [--after-minutes N] (or
research-stats, or python -m research.cli stats).

The breakout statistics of a spec's range definitions on its data (research/stats/,
docs/studies.md): per definition the share of days breaking up, down, both and neither,
the continuation rate, and the same split by volatility state. ``--json`` prints one JSON
object per definition (one a line); ``--out DIR`` writes stats.json, stats.csv and
stats.png there, and rebuilds DIR's report.html when DIR is a results folder that has one
(its page then shows a Breakouts section). Exit codes (research.cli.shell): 0 done, 2 a spec
or data the command cannot use, 3 a file could not be written, 130 interrupted,
143 terminated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from research.cli import shell
from research.errors import ResearchError, SpecError, shorten

EXAMPLES = """examples:
  python -m research.stats sweeps/study_orb_stats.yaml
  python -m research.stats sweeps/study_orb_stats.yaml --json --after-minutes 60
  python -m research.stats sweeps/grid.yaml --out results/default

A spec's range definitions are the product of its range_start, range_end (or range_minutes)
and trade_until values (base or grid); without them, the reference slots it enables."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command's options (``--help`` lists them, with examples).

    >>> parse_args(["sweeps/grid.yaml", "--after-minutes", "60"]).after_minutes
    60
    """
    parser = argparse.ArgumentParser(
        prog=shell.prog("stats"), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Breakout statistics of a spec's opening ranges: how often each breaks "
                    "up, down, both or neither, and whether the first break continues.")
    parser.add_argument("spec", metavar="SPEC", help="a sweep spec (YAML), e.g. "
                        "sweeps/study_orb_stats.yaml")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per range definition (one a line)")
    parser.add_argument("--out", metavar="DIR", help="write stats.json, stats.csv and "
                        "stats.png in DIR (a results folder's report then shows them)")
    parser.add_argument("--after-minutes", type=int, default=30, metavar="N",
                        help="continuation: the close N minutes after the first break "
                             "(default 30)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the error line goes to stderr).

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     main(["no/such/spec.yaml"])
    2
    >>> err.getvalue().startswith("error: no/such/spec.yaml: cannot read the spec")
    True
    """
    args = parse_args(argv)
    return shell.run(lambda: _run(args), verbose=args.verbose, command_line=argv is None)


def _run(args: argparse.Namespace) -> int:
    from research.stats.breakouts import breakout_stats
    from research.stats.text import stats_text

    try:
        stats = breakout_stats(args.spec, after_minutes=args.after_minutes)
    except SpecError as exc:
        if str(exc).startswith("after_minutes:"):  # the option, as the user typed it
            raise SpecError(f"--after-minutes{str(exc)[len('after_minutes'):]}") from None
        raise
    if args.json:
        for record in stats.records():
            print(json.dumps(record, sort_keys=False, separators=(",", ":")))
    else:
        print(stats_text(stats))
    if args.out is not None:
        _write(stats, Path(args.out), quiet=args.json)
    return 0


def _write(stats, folder: Path, *, quiet: bool) -> None:
    from research.stats.files import write_stats

    with shell.writing(folder):
        written = write_stats(stats, folder)
    said = sys.stderr if quiet else sys.stdout  # --json keeps stdout JSON only
    print(f"wrote {', '.join(path.name for path in written)} in {folder}", file=said)
    report = rebuild_report(folder)
    if report is not None:
        print(f"report: {report}", file=said)


def rebuild_report(folder: Path) -> Path | None:
    """Rewrite `folder`'s report.html, if it is a results folder with one, so that it shows
    the statistics; a report that cannot be rebuilt is one warning line (the statistics
    are written).

    >>> import tempfile
    >>> rebuild_report(Path(tempfile.mkdtemp())) is None
    True
    """
    from research.report import write_report
    from research.results.store import MANIFEST, REPORT

    if not ((folder / REPORT).is_file() and (folder / MANIFEST).is_file()):
        return None
    try:
        return write_report(folder)
    except (ResearchError, OSError) as exc:
        why = (exc.strerror if isinstance(exc, OSError) and exc.strerror
               else str(exc) if isinstance(exc, ResearchError)  # bounded where it is made
               else shorten(str(exc)))
        print(f"warning: {folder / REPORT} does not show the statistics: it could not be "
              f"rebuilt ({type(exc).__name__}: {why}); rebuild it with: "
              f"python -m research.report {folder}", file=sys.stderr)
        return None


if __name__ == "__main__":
    sys.exit(main())
