"""The data inspector: what `load_bars` makes of a data path, in a screen of text.

    python -m research.cli.data_inspector PATH [--format F] [--instrument I] [--timezone TZ]
                                 [--timestamps open|close] [--roll volume|none]

It shows the detected format and column mapping, time zone and stamp convention, instruments
and contracts with their date ranges and roll dates, first and last bar, trading dates, bars
per date (min / median), the longest gaps other than the daily halt and weekends, and the
first problems found, without running a sweep. Unreadable data: the loader's message, exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from research.engine.bars import Bars
from research.engine.clock import NS_PER_MINUTE
from research.engine.data import describe_bars, load_with_report, prepare_bars
from research.engine.formats import FORMAT_NAMES, ROLL_RULES, STAMPS
from research.engine.formats.loader import FileReport, LoadReport
from research.engine.formats.symbols import parse_symbol
from research.engine.timestamps import chicago_text
from research.errors import DataError, ResearchError, printable_lines, printable_logging

SHOWN_FILES = 8
SHOWN_GAPS = 5
REGULAR_HALT = (15 * 60 + 59, 17 * 60)  # last bar before, first bar after the daily halt
# Minutes a regular halt (61) or weekend (2,941) lasts, give or take a DST change's hour.
REGULAR_GAP_MINUTES = ((61 - 60, 61 + 60), (2941 - 60, 2941 + 60))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m research.cli.data_inspector",
                                     description="Show what the loader makes of bar files.")
    parser.add_argument("path", help="a bar file, folder or glob")
    parser.add_argument("--format", default="auto", choices=FORMAT_NAMES)
    parser.add_argument("--instrument", help="the instrument of files without an instrument "
                        "column; keeps only its rows")
    parser.add_argument("--timezone", help="the zone of naive stamps (default: the format's)")
    parser.add_argument("--timestamps", choices=STAMPS, help="open or close stamps "
                        "(default: the format's convention)")
    parser.add_argument("--roll", default="volume", choices=ROLL_RULES)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """The inspector's CLI: prints what the loader makes of a path; returns the exit code
    (2 for unreadable data, with the message on stderr and no traceback).

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     main(["missing.csv"])
    2
    >>> err.getvalue()
    'error: missing.csv: no such file or folder\\n'
    """
    args = parse_args(argv)
    printable_logging(logging.ERROR, "%(levelname)s:%(name)s:%(message)s")
    try:  # symbols, column names and paths come from files: shown escaped (issue 19)
        print(printable_lines(inspect(args.path, format=args.format,
                                      instrument=args.instrument, timezone=args.timezone,
                                      timestamps=args.timestamps, roll=args.roll)))
    except ResearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def inspect(path: str, **keys: object) -> str:
    """The inspector's screen for `path` (the same keys as `load_bars`).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> print(inspect(str(path)).splitlines()[2])
      ES.txt: kibot (detected); timezone America/New_York; timestamps open; 1 rows
    """
    frame, report = load_with_report(path, **keys)
    lines = [f"data: {path}", f"files: {len(report.files)}"]
    lines += [_file_line(file) for file in report.files[:SHOWN_FILES]]
    if len(report.files) > SHOWN_FILES:
        lines.append(f"  ... and {len(report.files) - SHOWN_FILES} more")
    lines.append("columns: " + _columns(report.files[0]))
    problems = [warning.message for warning in report.warnings]
    for symbol in sorted({str(name) for name in frame["instrument"].dropna()}):
        root = parse_symbol(symbol).root
        if root is None:
            lines.append(f"{symbol}: not an instrument of the table (skipped)")
            continue
        try:
            bars = prepare_bars(frame, root)
        except DataError as exc:
            problems.append(str(exc))
            continue
        lines += _instrument_lines(bars, report)
    lines.append("problems:" if problems else "problems: none found")
    lines += [f"  {problem}" for problem in problems[:SHOWN_GAPS]]
    return "\n".join(lines)


def _file_line(file: FileReport) -> str:
    how = "detected" if file.detected else "given"
    spreads = f"; {file.spreads} spread rows dropped" if file.spreads else ""
    name = file.source.rsplit("/", 1)[-1]
    return (f"  {name}: {file.format} ({how}); timezone {file.timezone}; timestamps "
            f"{file.stamps}; {file.rows} rows{spreads}")


def _columns(file: FileReport) -> str:
    return ", ".join(f"{name} <- {column}" for name, column in file.columns.items())


def _instrument_lines(bars: Bars, report: LoadReport) -> list[str]:
    days, counts = np.unique(bars.trading_day, return_counts=True)
    described = describe_bars(bars)
    lines = [f"{bars.instrument.symbol}: {len(bars)} bars, {len(days)} trading dates, "
             f"{_date(days[0])} .. {_date(days[-1])}"]
    for contract in described["contracts"]:
        lines.append(f"  contract {contract['contract']}: {contract['first_date']} .. "
                     f"{contract['last_date']}")
    for roll in described["roll_dates"]:
        lines.append(f"  roll on {roll['date']}: {roll['from']} -> {roll['to']}")
    first, last = chicago_text(bars.ts_ns[[0, -1]])
    lines += [f"  first bar: {first}", f"  last bar:  {last}",
              f"  bars per trading date: min {counts.min()} ({_date(days[counts.argmin()])}), "
              f"median {int(np.median(counts))}"]
    lines += ["  longest gaps (besides the daily halt and weekends):"] + _gaps(bars)
    return lines


def _gaps(bars: Bars) -> list[str]:
    minutes = np.diff(bars.ts_ns) // NS_PER_MINUTE
    usual = np.zeros(minutes.size, dtype=bool)
    for shortest, longest in REGULAR_GAP_MINUTES:
        usual |= (minutes >= shortest) & (minutes <= longest)
    regular = usual & (bars.minute_of_day[:-1] == REGULAR_HALT[0]) & \
        (bars.minute_of_day[1:] == REGULAR_HALT[1])
    gaps = np.flatnonzero((minutes > 1) & ~regular)
    if not gaps.size:
        return ["    none"]
    shown = gaps[np.argsort(-minutes[gaps], kind="stable")][:SHOWN_GAPS]  # longest first
    # only the shown stamps as text: formatting every bar cost ~2 s a year of minute bars
    starts, ends = chicago_text(bars.ts_ns[shown]), chicago_text(bars.ts_ns[shown + 1])
    return [f"    {start} -> {end} ({_duration(int(minutes[i]))})"
            for i, start, end in zip(shown, starts, ends, strict=True)]


def _duration(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _date(day: int) -> str:
    return str(pd.Timestamp(int(day), unit="D").date())


if __name__ == "__main__":
    sys.exit(main())
