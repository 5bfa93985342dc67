"""The data inspector: what `load_bars` makes of a data path, in a screen of text.

    python -m research.cli.data_inspector PATH [--format F] [--instrument I] [--timezone TZ]
                                 [--timestamps open|close] [--roll volume|none]

It shows each file's format, time zone, stamp convention and instrument with where each came
from (detected, format default, file name, given), the files skipped (header only, copies),
the column mapping, instruments and a table of contracts by date (dates, price range, the roll
that starts each), first and last bar, trading dates as the sweep counts them (Monday to
Friday labels), bars per date (min / median), the longest gaps other than the daily halt and
weekends, and the problems found (a wrong zone, bad bars, bars outside the exchange's
sessions), without running a sweep. Exit codes (research.cli.shell):
0 shown, 2 unreadable data (the loader's message, one line), 3 the output could not be
written, 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import numpy as np

from research.cli import shell
from research.engine.bars import NO_CONTRACTS, Bars
from research.engine.calendar import calendar_in_data
from research.engine.clock import NS_PER_MINUTE, iso_day
from research.engine.data import describe_bars, load_with_report, prepare_bars
from research.engine.formats import FORMAT_NAMES, ROLL_RULES, STAMPS
from research.engine.formats.loader import FileReport, LoadReport
from research.engine.formats.quality import BAD_BARS
from research.engine.formats.symbols import parse_symbol
from research.engine.ranges import weekday_trading_days
from research.engine.timestamps import chicago_text
from research.errors import DataError, printable_lines

SHOWN_FILES = 8
ENCODINGS = {"utf-16": "UTF-16 (byte-order mark)", "utf-8-sig": "UTF-8 with a byte-order mark"}
SHOWN_GAPS = 5
REGULAR_HALT = (15 * 60 + 59, 17 * 60)  # last bar before, first bar after the daily halt
# Minutes a regular halt (61) or weekend (2,941) lasts, give or take a DST change's hour.
REGULAR_GAP_MINUTES = ((61 - 60, 61 + 60), (2941 - 60, 2941 + 60))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command's options.

    >>> parse_args(["data/ES.parquet", "--roll", "none"]).roll
    'none'
    """
    parser = argparse.ArgumentParser(prog=shell.prog("data"),
                                     description="Show what the loader makes of bar files.")
    parser.add_argument("path", help="a bar file, folder or glob")
    parser.add_argument("--format", default="auto", choices=FORMAT_NAMES)
    parser.add_argument("--instrument", help="the instrument of files without an instrument "
                        "column; keeps only its rows")
    parser.add_argument("--timezone", help="the zone of naive stamps (default: the format's)")
    parser.add_argument("--timestamps", choices=STAMPS, help="open or close stamps "
                        "(default: the format's convention)")
    parser.add_argument("--roll", default="volume", choices=ROLL_RULES)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done")
    parser.add_argument("--bad-bars", default="warn", choices=BAD_BARS,
                        help="bars wrong one by one (spikes, prices <= 0): warn, drop, error")
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
    # the loader's warnings are listed under "problems:"; -v logs them as they come too
    return shell.run(lambda: _run(args), verbose=args.verbose, level=logging.ERROR,
                     command_line=argv is None)


def _run(args: argparse.Namespace) -> int:
    # symbols, column names and paths come from files: shown escaped (issue 19)
    print(printable_lines(inspect(args.path, format=args.format, instrument=args.instrument,
                  timezone=args.timezone, timestamps=args.timestamps, roll=args.roll,
                  bad_bars=args.bad_bars)))
    return 0


def inspect(path: str, **keys: object) -> str:
    """The inspector's screen for `path` (the same keys as `load_bars`).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("12/02/2024,09:31,6045.25,6046,6045,6045.75,812\\n")
    >>> print(inspect(str(path)).splitlines()[2])
      ES.txt: kibot (detected); timezone America/New_York (format default); timestamps open
      (format default); instrument ES (file name); 1 rows
    """
    frame, report = load_with_report(path, **keys)
    lines = [f"data: {path}", f"files: {len(report.files)}"]
    lines += [_file_line(file) for file in report.files[:SHOWN_FILES]]
    if len(report.files) > SHOWN_FILES:
        lines.append(f"  ... and {len(report.files) - SHOWN_FILES} more")
    lines += [f"  {line}" for line in report.skipped[:SHOWN_FILES]]
    if report.dropped_bars:
        lines.append(f"bad bars left out (bad_bars: drop): {report.dropped_bars}")
    lines.append("columns: " + _columns(report.files[0]))
    problems = [warning.message for warning in report.warnings]
    shown_problems = max(SHOWN_GAPS, len(problems))  # every loader warning, then the rest
    for symbol in sorted({str(name) for name in frame["instrument"].dropna().unique()}):
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
    lines += [f"  {problem}" for problem in problems[:shown_problems]]
    return "\n".join(lines)


def _file_line(file: FileReport) -> str:
    came = file.settings_from
    spreads = f"; {file.spreads} spread rows dropped" if file.spreads else ""
    encoding = f"; text {ENCODINGS[file.encoding]}" if file.encoding in ENCODINGS else ""
    dropped = f"; {file.dropped} bad bars left out" if file.dropped else ""
    name = file.source.rsplit("/", 1)[-1]
    holds = ", ".join(file.holds[:SHOWN_FILES]) + (" ..." if len(file.holds) > SHOWN_FILES
                                                    else "")
    return (f"  {name}: {file.format} ({came.get('format', 'detected')}); timezone "
            f"{file.timezone} ({came.get('timezone', 'format default')}); timestamps "
            f"{file.stamps} ({came.get('timestamps', 'format default')}); instrument {holds} "
            f"({came.get('instrument', 'given')}){encoding}; {file.rows} rows{spreads}{dropped}")


def _columns(file: FileReport) -> str:
    return ", ".join(f"{name} <- {column}" for name, column in file.columns.items())


def _instrument_lines(bars: Bars, report: LoadReport) -> list[str]:
    days, counts = np.unique(bars.trading_day, return_counts=True)
    traded = weekday_trading_days(bars)  # as the sweep counts them: Monday-Friday labels
    lines = [f"{bars.instrument.symbol}: {len(bars)} bars, {len(traded)} trading dates "
             f"(Monday-Friday, as the sweep counts them; {len(days)} date labels with bars), "
             f"{iso_day(days[0])} .. {iso_day(days[-1])}"]
    lines += _contract_table(bars)
    first, last = chicago_text(bars.ts_ns[[0, -1]])
    lines += [f"  first bar: {first}", f"  last bar:  {last}",
              f"  bars per trading date: min {counts.min()} ({iso_day(days[counts.argmin()])}), "
              f"median {int(np.median(counts))}"]
    lines += ["  longest gaps (besides the daily halt and weekends):"] + _gaps(bars)
    special, closed = calendar_in_data(bars.instrument.symbol, bars.trading_day,
                                       bars.minute_of_day)  # the CME calendar (calendar.py)
    lines.append(f"  special sessions (CME calendar): {len(special) or 'none'}")
    lines += [f"    {iso_day(day)} {name}: {'closed' if close == 'closed' else 'close ' + close}"
              for day, close, name in special[:SHOWN_GAPS * 4]]
    if closed.size:
        lines.append(f"  bars while the exchange was closed: {closed.size} (first: "
                     f"{', '.join(chicago_text(bars.ts_ns[closed[:3]]))}): a wrong time zone "
                     "or a bad file?")
    return lines


def _contract_table(bars: Bars) -> list[str]:
    """Contracts by date: first and last date, contract, price range, the roll into it."""
    tick, decimals = bars.instrument.tick, bars.instrument.decimals
    rolls = {(roll["date"], roll["to"]): roll["from"] for roll in
             describe_bars(bars)["roll_dates"]}
    rows = []
    for code, name in enumerate(bars.contracts):
        mine = bars.contract_code == code
        if not mine.any():
            continue
        days = bars.trading_day[mine]
        first_date, last_date = iso_day(days.min()), iso_day(days.max())
        low = bars.low_ticks[mine].min() * tick
        high = bars.high_ticks[mine].max() * tick
        roll = rolls.get((first_date, name))
        rows.append((first_date, last_date, name or "(none)",
                     f"{low:.{decimals}f} .. {high:.{decimals}f}",
                     f"roll from {roll}" if roll else ""))
    rows.sort()
    title = "  contracts by date:" if bars.contracts != NO_CONTRACTS else "  prices:"
    return [title] + [f"    {first} .. {last}  {name:<8} {prices}  {roll}".rstrip()
                      for first, last, name, prices, roll in rows]


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


if __name__ == "__main__":
    raise SystemExit(main())
