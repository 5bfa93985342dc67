"""What the loader notes about one file besides its bars: where its instrument and settings
came from, its text encoding, a cut last line, a copy of another file, off-calendar bars."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from research.engine.formats.base import RawTable
from research.engine.formats.checks import DataWarning
from research.engine.formats.detect import Detected
from research.engine.formats.quality import BadBars
from research.engine.formats.session_days import off_calendar_warning
from research.engine.formats.symbols import symbol_from_path
from research.engine.formats.textio import encoding_of, last_line_cut, read_head
from research.errors import DataError

log = logging.getLogger("research.engine.data")
PRICE_COLUMNS = ("open", "high", "low", "close")

ENCODING_NAMES = {"utf-16": "UTF-16 text (its byte-order mark says so)",
                   "utf-8-sig": "UTF-8 text with a byte-order mark"}


def named_by_path(raw: RawTable, file: Path) -> tuple[RawTable, str]:
    """A file without a symbol column and no name its reader took: the instrument a file or
    folder name starts with (ES_1min_sample.csv, glbx/ES/2024.csv), and where the file's
    instrument comes from ("column", "file name", "folder name" or "given")."""
    if "symbol" in raw.frame.columns:
        return raw, "column"
    if raw.symbol is not None:
        return raw, "file name"
    symbol, how = symbol_from_path(file)
    if symbol is None:
        return raw, "given"
    return RawTable(frame=raw.frame, fmt=raw.fmt, found_columns=raw.found_columns,
                    units_per_point=raw.units_per_point, symbol=symbol, renamed=raw.renamed,
                    date_formats=raw.date_formats, stamp_format=raw.stamp_format,
                    auto=raw.auto), how


def settings_from(detected: Detected, instrument: str, options: Any
                   ) -> dict[str, str]:
    """Where the format, zone, stamp convention and instrument of one file came from."""
    how = "columns:" if options.columns else "detected" if detected.auto else "given"
    return {"format": how,
            "timezone": "given" if options.timezone else "format default",
            "timestamps": "given" if options.timestamps else "format default",
            "instrument": instrument}


def encoding(file: Path, detected: Detected) -> str:
    if detected.kind != "text":
        return "utf-8"
    try:
        return encoding_of(read_head(file))
    except DataError:
        return "utf-8"


def cut_last_row(file: Path, detected: Detected, file_rows: int, rows: np.ndarray
                  ) -> np.ndarray:
    """Marks the file's last data row (of `file_rows`) when its line has no line ending (it
    may be cut)."""
    cut = np.zeros(rows.size, dtype=bool)
    if detected.kind == "text" and file_rows and last_line_cut(file):
        cut[rows == file_rows - 1] = True
    return cut


def cut_finding(source: str, cut: np.ndarray, rows: np.ndarray,
                 prices: dict[str, np.ndarray]) -> BadBars:
    at = np.flatnonzero(cut)
    return BadBars(kind="cut", positions=at, message=(
        f"{source}: the last line has no line ending, so it may be cut short inside its bar "
        f"(row {int(rows[at[0]])}: close={prices['close'][at[0]]:g}); bad_bars: drop leaves it"
        " out, bad_bars: error refuses the data (or copy the file again)"))


def duplicate_of(part: Any, seen: dict[str, str], source: str) -> str | None:
    """The earlier file with the very same bars (stamps, prices, contracts), if any."""
    digest = hashlib.sha256(part.utc_ns.tobytes())
    for name in PRICE_COLUMNS:
        digest.update(part.prices[name].tobytes())
    digest.update("|".join(map(str, part.contracts)).encode())
    key = digest.hexdigest()
    if key in seen and part.utc_ns.size:
        return seen[key]
    seen.setdefault(key, source)
    return None


def calendar_warnings(part: Any, source: str) -> list[DataWarning]:
    """Bars of sessions outside the exchange's calendar (Saturday one-lot bars): reported,
    and kept out of the roll's vote."""
    if not part.utc_ns.size:
        return []
    warning = off_calendar_warning(part.wall_ns, source)
    if warning is not None:
        log.warning("%s", warning.message)
        return [warning]
    return []
