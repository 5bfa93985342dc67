"""Section 1, run facts: what was run on which data, with which code, how long it took, and
what failed (each failure's first line; the manifest holds the tracebacks).

>>> import pandas as pd
>>> s = pd.DataFrame({"combo_id": ["a"], "target": [10], "trades": [3], "net_profit_usd": [1.0]})
>>> manifest = {"status": "complete", "failures": [{"combo_id": "b", "error": "boom\\nmore"}]}
>>> page = facts_section(ReportInputs.from_frames(s, ["target"], manifest=manifest))
>>> page.startswith('<section id="run-facts">'), "boom" in page, "more" in page
(True, True, False)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from research.report.format import MISSING, count, day, ratio, stamp_ns
from research.report.markup import definition_list, esc, note, section, table
from research.report.results_folder import ReportInputs

MAX_FAILURES_SHOWN = 50
SECTION_ID = "run-facts"


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return MISSING
    if isinstance(value, (list, tuple)):
        return esc(", ".join(map(str, value)))
    if isinstance(value, Mapping):
        return esc(json.dumps(value, sort_keys=True))
    return esc(value)


def _source(manifest: Mapping[str, Any]) -> str:
    """The data's source; built-in synthetic bars say so (their source is an in-memory frame)."""
    source = (manifest.get("data") or {}).get("source")
    synthetic = ((manifest.get("spec") or {}).get("data") or {}).get("synthetic")
    if isinstance(synthetic, Mapping) and source in (None, "<frame>"):
        return esc("built-in synthetic bars: " + _plain(synthetic))
    return _text(source)


def _data_facts(inputs: ReportInputs) -> str:
    data = inputs.manifest.get("data") or {}
    dates = inputs.daily.index
    return definition_list([
        ("source", _source(inputs.manifest)),
        ("instrument", _text(data.get("instrument"))),
        ("format", _text(data.get("format") or "canonical")),
        ("contracts", esc(count(len(data.get("contracts") or [])) + " (table below)"
                          if data.get("contracts") else MISSING)),
        ("first bar", esc(stamp_ns(data.get("first_ts_ns")))),
        ("last bar", esc(stamp_ns(data.get("last_ts_ns")))),
        ("bars", esc(count(data.get("rows")))),
        ("trading dates", esc(f"{count(len(dates))} ({day(dates[0])} to {day(dates[-1])})"
                              if len(dates) else MISSING)),
        *_fills(inputs.manifest),
    ])


MAX_DATA_WARNINGS_SHOWN = 20


def _contracts(data: Mapping[str, Any]) -> str:
    """The contracts by date (first date, last date, contract, the roll that starts it).

    >>> html = _contracts({"contracts": [{"contract": "ESM4", "first_date": "2024-03-14",
    ...     "last_date": "2024-06-13"}, {"contract": "ESH4", "first_date": "2024-01-02",
    ...     "last_date": "2024-03-13"}], "roll_dates": [{"date": "2024-03-14", "from": "ESH4",
    ...     "to": "ESM4"}]})
    >>> html.index("ESH4") < html.index("ESM4"), "ESH4 → ESM4" in html
    (True, True)
    """
    contracts = sorted(data.get("contracts") or [],
                       key=lambda row: (str(row.get("first_date")), str(row.get("contract"))))
    if not contracts:
        return ""
    rolls = {(roll.get("date"), roll.get("to")): roll.get("from")
             for roll in data.get("roll_dates") or []}
    rows = [[str(row.get("first_date", MISSING)), str(row.get("last_date", MISSING)),
             str(row.get("contract", MISSING)),
             f"{rolls[key]} → {row.get('contract')}"
             if (key := (row.get("first_date"), row.get("contract"))) in rolls else ""]
            for row in contracts]
    return ("<h3>Contracts and rolls</h3>"
            + table(["from", "to", "contract", "roll"], rows, attrs='class="compact"'))


def _data_warnings(data: Mapping[str, Any]) -> str:
    """What the loader warned about (a wrong zone, bad bars, stray sessions), as warnings."""
    warnings = [str(text) for text in data.get("warnings") or []]
    out = "".join(note(text, "warn") for text in warnings[:MAX_DATA_WARNINGS_SHOWN])
    if len(warnings) > MAX_DATA_WARNINGS_SHOWN:
        out += note(f"{len(warnings) - MAX_DATA_WARNINGS_SHOWN} more data warnings in "
                    "manifest.json (data.warnings).", "warn")
    if data.get("dropped_bars"):
        out += note(f"{count(data['dropped_bars'])} bad bar(s) left out (bad_bars: drop).",
                    "warn")
    return out


def _fills(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The fill-honesty check: how far past a level the crossing bar closes (engine/fills.py)."""
    fills = manifest.get("fills") or {}
    items = []
    for kind in ("breakouts", "stops"):
        stats = fills.get(kind) or {}
        if stats:
            items.append((f"{kind[:-1]} fills", esc(
                f"{count(stats.get('count'))}; crossing bar closes {ratio(stats.get('mean_ticks'))}"
                f" ticks past the level on average (median "
                f"{ratio(stats.get('median_ticks'))})")))
    if fills.get("note"):
        items.append(("fill note", esc(fills["note"])))
    if fills.get("resolve_with"):
        items.append(("1-second bars", esc(f"{fills['resolve_with']}: decide the trades the "
                                           "minute bars cannot (unlike the reference)")))
    return items


def _spec(manifest: Mapping[str, Any]) -> str:
    spec = manifest.get("spec") or {}
    base = spec.get("base") or {}
    grid = spec.get("grid") or {}
    rows = [[f"grid: {axis}", ", ".join(map(str, values))] for axis, values in grid.items()]
    rows += [[f"base: {key}", _plain(value)] for key, value in base.items()]
    data = spec.get("data") or {}
    rows += [[f"data: {key}", _plain(value)] for key, value in data.items() if value is not None]
    rows.append(["store trades", _plain(spec.get("store_trades", "all"))])
    size = f"{count(manifest.get('grid_size'))} combos"
    return (f"<h3>Spec <span class=\"muted\">({esc(manifest.get('source', MISSING))}; "
            f"{esc(size)})</span></h3>"
            + table(["key", "value"], rows, attrs='class="compact wrap"'))


_READING_ORDER = ("instrument", "start", "end", "seed")  # synthetic data's keys, as said


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (_READING_ORDER + (k,)).index(k))
        return ", ".join(f"{k} {_plain(value[k])}" for k in keys)
    return str(value)


def _run(manifest: Mapping[str, Any]) -> str:
    budget = manifest.get("budget") or {}
    timings = manifest.get("timings") or {}
    versions = manifest.get("versions") or {}
    return definition_list([
        ("status", _text(manifest.get("status"))),
        ("combos", esc(f"{count(manifest.get('combos_ok'))} finished, "
                       f"{count(manifest.get('combos_failed'))} failed, of "
                       f"{count(manifest.get('grid_size'))}")),
        ("git commit", _text(manifest.get("git_commit"))),
        ("versions", esc(", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or MISSING)),
        ("budget", esc(f"{budget.get('backend', MISSING)}: {budget.get('processes', MISSING)} "
                       f"processes × {budget.get('threads', MISSING)} threads, "
                       f"{budget.get('tasks', MISSING)} tasks, max_cpus "
                       f"{budget.get('max_cpus', MISSING)}")),
        ("timings", esc(", ".join(f"{k.removesuffix('_s')} {v:.2f} s"
                                  for k, v in sorted(timings.items())
                                  if isinstance(v, (int, float))) or MISSING)),
    ])


def _failures(manifest: Mapping[str, Any]) -> str:
    failures = manifest.get("failures") or []
    if not failures:
        return note("No combo failed.")
    rows = []
    for failure in failures[:MAX_FAILURES_SHOWN]:
        error = str(failure.get("error") or failure.get("traceback") or MISSING)
        rows.append([str(failure.get("combo_id", MISSING)), _plain(failure.get("params", {})),
                     error.strip().splitlines()[0] if error.strip() else MISSING])
    more = len(failures) - len(rows)
    tail = note(f"{more} more in manifest.json (with every traceback).") if more > 0 else \
        note("Tracebacks: manifest.json, key failures.")
    return (f"<h3>Failures ({count(len(failures))})</h3>"
            + table(["combo", "params", "error (first line)"], rows, attrs='class="compact"')
            + tail)


def facts_section(inputs: ReportInputs) -> str:
    """The run facts: data, spec, run (versions, budget, timings) and failures."""
    data = inputs.manifest.get("data") or {}
    body = ('<div class="cols"><div><h3>Data</h3>' + _data_warnings(data) + _data_facts(inputs)
            + _contracts(data)
            + "<h3>Run</h3>" + _run(inputs.manifest) + "</div><div>" + _spec(inputs.manifest)
            + "</div></div>" + _failures(inputs.manifest)
            + "".join(note(text, "warn") for text in inputs.notes))
    return section(SECTION_ID, "Run facts", body)
