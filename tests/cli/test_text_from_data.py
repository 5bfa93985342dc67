"""Text from data is data (issue 19): symbols, column names and paths read from files are
shown with control characters escaped, on screen, in logs and in messages."""

from __future__ import annotations

import logging

import pytest

from research.cli.data_inspector import main as inspect_main
from research.errors import (
    DataError,
    PrintableFormatter,
    SpecError,
    printable,
    printable_lines,
    shorten,
)
from research.spec.grid import MAX_NAME_CHARS, spec_from_dict

HOSTILE = "ES\x1b]0;owned\x07\x1b[2J\x9b\u202e"
SHOWN = "ES\\x1b]0;owned\\x07\\x1b[2J\\x9b\\u202e"


def test_printable_escapes_every_control_and_format_character():
    assert printable(HOSTILE) == SHOWN
    assert printable("tab\there\r\n") == "tab\\there\\r\\n"
    assert printable("Zürich 08:30\u00a0ES") == "Zürich 08:30\u00a0ES"  # text stays text
    assert printable_lines(f"{HOSTILE}\nNQ") == f"{SHOWN}\nNQ"


def test_every_research_error_message_is_escaped():
    assert str(DataError(f"bars.csv: symbol {HOSTILE} is unknown")) == (
        f"bars.csv: symbol {SHOWN} is unknown")
    assert "\x1b" not in shorten(__import__("pathlib").Path(f"data/{HOSTILE}.csv"))


def test_log_lines_are_escaped():
    record = logging.LogRecord("research", logging.WARNING, __file__, 1, "%s: skipped",
                               (f"data/{HOSTILE}.csv",), None)
    assert PrintableFormatter("%(message)s").format(record) == f"data/{SHOWN}.csv: skipped"


def test_the_inspector_never_prints_a_symbol_raw(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    path.write_text("timestamp,open,high,low,close,instrument\n"
                    f"2024-01-02 08:30:00-06:00,1,2,0.5,1.5,{HOSTILE}\n"
                    "2024-01-02 08:31:00-06:00,1,2,0.5,1.5,ES\n", encoding="utf-8")
    inspect_main([str(path)])
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err and "\u202e" not in out + err
    assert "ES\\x1b]0;OWNED\\x07\\x1b[2J\\x9b\\u202e: not an instrument" in out  # upper-cased


def test_a_name_the_file_system_cannot_hold_is_a_spec_error_naming_name():
    with pytest.raises(SpecError, match=r"^name: 'x{55}\.\.\.\(300 chars\) is too long for a "
                                        rf"folder name; use at most {MAX_NAME_CHARS} characters$"):
        spec_from_dict({"name": "x" * 300})
    assert spec_from_dict({"name": "x" * MAX_NAME_CHARS,
                           "grid": {"target": [10]}, "base": {"instrument": "ES"}},
                          data_required=False).name == (
        "x" * MAX_NAME_CHARS)
