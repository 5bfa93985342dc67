"""The page: ``report.html``, one self-contained file in the sweep's folder.

Styles and the script are inlined from ``assets/``, charts are inline SVG, and a Content
Security Policy (``default-src 'none'``) makes the browser refuse any request the page might
make, so it opens offline, can be mailed or archived as it is, and never phones home. The
same folder gives the same bytes: nothing in it depends on the clock or the machine.

>>> from research import ResearchRunner, synthetic_bars
>>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-02-29"),
...                         results_dir="results", progress=False)
>>> sweep = runner.run(grid={"slot": ["07:30", "09:30"], "target": [10, 15]},
...                    base={"instrument": "ES"}, name="page")
>>> path = write_report(sweep.path)
>>> path.name, path.read_bytes() == build_report(ReportInputs.from_folder(sweep.path)).encode()
('report.html', True)
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from functools import cache
from importlib import resources
from pathlib import Path

from research.report.format import count, day, usd
from research.report.markup import esc
from research.report.page_breakouts import SECTION_ID as BREAKOUTS_ID
from research.report.page_breakouts import TITLE as BREAKOUTS_TITLE
from research.report.page_breakouts import breakouts_section
from research.report.page_closeup import closeup_section
from research.report.page_facts import facts_section
from research.report.page_heatmaps import heatmaps_section
from research.report.page_robust import overfitting_section, walk_forward_section
from research.report.page_top import top_section
from research.report.results_folder import ReportInputs
from research.report.top import DEFAULT_RANK, top_combos
from research.results.atomic import atomic_write
from research.results.store import REPORT

logger = logging.getLogger(__name__)

# (section id, navigation label), in page order; the browser test checks every id.
SECTIONS = (("run-facts", "Run facts"), ("top-table", "Top combos"), ("heatmaps", "Heatmaps"),
            ("walk-forward", "Walk-forward"), ("overfitting", "Overfitting"),
            ("top-five", "Top 5 up close"))
# The page may load nothing: inline styles, data: images, and only the one script whose
# sha256 the policy names: an escaping bug could add markup, never a script that runs.
CSP_TEMPLATE = ("default-src 'none'; style-src 'unsafe-inline'; script-src '{script}'; "
                "img-src data:")


def script_hash(script: str) -> str:
    """The CSP source of an inline script: 'sha256-' and its base64 digest.

    >>> script_hash("")
    'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
    """
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()


def csp() -> str:
    """The page's Content Security Policy (its script's hash included)."""
    return CSP_TEMPLATE.format(script=script_hash(_asset("report.js")))


@cache
def _asset(name: str) -> str:
    return resources.files("research.report").joinpath("assets", name).read_text("utf-8")


def _header(inputs: ReportInputs) -> str:
    manifest, summary, dates = inputs.manifest, inputs.summary, inputs.daily.index
    name = (manifest.get("spec") or {}).get("name") or (inputs.folder.name if inputs.folder
                                                           else "sweep")
    span = f"{day(dates[0])} to {day(dates[-1])}" if len(dates) else "no trading dates"
    facts = [inputs.instrument or "", span, f"{count(len(summary))} of "
             f"{count(manifest.get('grid_size', len(summary)))} combos finished",
             f"status {manifest.get('status', 'unknown')}"]
    best = ""
    if not summary.empty:
        top = top_combos(summary, DEFAULT_RANK, 1).iloc[0]
        best = (f'<p class="kpi">Best by net $ after costs: <b>${esc(usd(top["net_profit_usd"]))}'
                f'</b> <span class="mono">{esc(top["combo_id"])}</span></p>')
    nav = "".join(f'<a href="#{sid}">{esc(label)}</a>' for sid, label in sections_of(inputs))
    return (f'<header><h1>Sweep <span class="mono">{esc(name)}</span></h1>'
            f'<p class="muted">{esc(" · ".join(f for f in facts if f))}</p>{best}'
            f"<nav>{nav}</nav></header>")


def sections_of(inputs: ReportInputs) -> tuple[tuple[str, str], ...]:
    """The page's sections (id, label): SECTIONS, and Breakouts when the folder has the
    breakout statistics (research-stats --out RESULTS_DIR).

    >>> import pandas as pd
    >>> s = pd.DataFrame({"combo_id": ["a"], "target": [10], "trades": [3],
    ...                   "net_profit_usd": [1.0]})
    >>> sections_of(ReportInputs.from_frames(s, ["target"])) == SECTIONS
    True
    """
    extra = ((BREAKOUTS_ID, BREAKOUTS_TITLE),) if inputs.breakouts is not None else ()
    return SECTIONS + extra


def build_report(inputs: ReportInputs) -> str:
    """The whole page as text."""
    sections = (facts_section(inputs), top_section(inputs), heatmaps_section(inputs),
                walk_forward_section(inputs), overfitting_section(inputs),
                closeup_section(inputs))
    if inputs.breakouts is not None:
        sections += (breakouts_section(inputs.breakouts),)
    name = (inputs.manifest.get("spec") or {}).get("name") or "sweep"
    versions = inputs.manifest.get("versions") or {}
    footer = (f"<footer>research {esc(versions.get('research', ''))} · results folder "
              f"{esc(inputs.folder.name if inputs.folder else '')} · git "
              f"{esc(inputs.manifest.get('git_commit') or 'none')}</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{esc(name)}: sweep report</title><style>{_asset('report.css')}</style>"
            f"</head><body>{_header(inputs)}<main>{''.join(sections)}</main>{footer}"
            f"<script>{_asset('report.js')}</script></body></html>\n")


def write_report(folder: Path | str, out: Path | str | None = None) -> Path:
    """Read `folder`, write its report (``folder/report.html`` unless `out`), return the path."""
    started = time.perf_counter()
    inputs = ReportInputs.from_folder(folder)
    path = Path(out) if out is not None else Path(folder) / REPORT
    page = build_report(inputs).encode("utf-8")
    with atomic_write(path) as handle:
        handle.write(page)
    logger.info("wrote %s (%d kB) in %.2f s", path, len(page) // 1000,
                time.perf_counter() - started)
    return path
