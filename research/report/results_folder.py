"""Everything the report reads from a results folder, named in one place.

Always there (a sweep writes them): ``manifest.json``, ``summary.parquet``, ``daily.parquet``.
Optional: ``trades.parquet`` (absent with ``store_trades: none``: no outcome mix and no cost
sensitivity) and the robustness analysis' files (``python -m research.cli.analyze``):

- ``robustness.json``, keys read (any may be missing): ``n_trials, best_combo_id,
  best_sharpe, sr0, dsr, pbo, prob_oos_loss, spa_pvalue, verdict``, the CSCV logits at the
  first of LOGIT_KEYS found, and ``walk_forward: {train, test, step, anchored, metric,
  oos_net_usd, oos_sharpe, oos_tstat, wfe, distinct_choices, folds: [{train_start,
  train_end, test_start, test_end, combo_id, params, train_metric, test_metric}]}``; fold
  dates are ISO dates or positions among the daily matrix' dates; and the mappings of
  FAMILY_KEYS (the number of tries, StepM, the haircut, CPCV), as they are.
- ``combo_stats.parquet``: ``combo_id`` and any of COMBO_STAT_COLUMNS.

A missing optional file leaves its sections with a note; an unreadable one too, with the
reason, and so does an analysis the manifest does not vouch for (of other results, or cut
short: research/results/record.py). A folder without a manifest or summary, a file that is
a link, FIFO or device, and a file that differs from the manifest's size and sha256 or
cannot be read are errors (ReportError, one line).

>>> from research import ResearchRunner, synthetic_bars
>>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
...                         results_dir="results", progress=False)
>>> sweep = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="inputs")
>>> inputs = ReportInputs.from_folder(sweep.path)
>>> inputs.axes, inputs.has_trades, inputs.robustness.n_trials  # robustness ran at the end
(('target',), True, 2)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.errors import (
    ReportError,  # noqa: F401 - raised here
    UnsafeFileError,
    shorten,
)
from research.report.breakouts import STATS_JSON, Breakouts, read_breakouts
from research.results.daily import DAILY, read_daily
from research.results.metrics import METRIC_COLUMNS
from research.results.record import analysis_is_current
from research.results.safe_files import damaged, read_bounded, regular_file
from research.results.store import (
    COMBO_STATS,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    ROBUSTNESS,
    SUMMARY,
    TRADES,
    output_problem,
    parse_manifest,
)

COMBO_STAT_COLUMNS = ("sharpe_ci_low", "sharpe_ci_high", "plateau_score", "dsr")
# robustness.json's sections of the number of tries and the rest of the data-snooping family
# (issue 25), kept as mappings for the overfitting section.
FAMILY_KEYS = ("trials", "dsr_by_trials", "spa_studentized_pvalues", "stepm", "haircut",
               "cpcv")
# Where robustness.json may hold the CSCV logits (lambda per split), first found wins.
LOGIT_KEYS = (("cscv", "logits"), ("logits",), ("cscv", "lambdas"), ("pbo_logits",))
TRADE_COLUMNS = ("combo_id", "date", "slot", "result", "gross_usd", "costs_usd", "net_usd",
                 "special_session")  # the CME calendar's holiday name (older folders: none)
ANALYZE_HINT = "robustness analysis not run (python -m research.cli.analyze RESULTS_DIR)"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _dig(data: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward fold: its windows (trading dates, inclusive) and its choice."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    combo_id: str
    params: Mapping[str, Any]
    train_metric: float | None
    test_metric: float | None


@dataclass(frozen=True, slots=True)
class WalkForward:
    """robustness.json's ``walk_forward``: the settings, the stitched result, the folds."""

    train: float | None
    test: float | None
    step: float | None
    anchored: bool | None
    metric: str | None
    oos_net_usd: float | None
    oos_sharpe: float | None
    oos_tstat: float | None
    wfe: float | None
    distinct_choices: float | None
    folds: tuple[Fold, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any], dates: pd.DatetimeIndex) -> WalkForward:
        folds = tuple(f for f in map(lambda raw: _fold(raw, dates), data.get("folds") or [])
                      if f is not None)
        anchored = data.get("anchored")
        metric = data.get("metric")
        return cls(*(_number(data.get(k)) for k in ("train", "test", "step")),
                   anchored if isinstance(anchored, bool) else None,
                   metric if isinstance(metric, str) else None,
                   *(_number(data.get(k)) for k in ("oos_net_usd", "oos_sharpe", "oos_tstat",
                                                    "wfe", "distinct_choices")),
                   folds)


def _fold_date(value: Any, dates: pd.DatetimeIndex) -> pd.Timestamp | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return dates[value] if -len(dates) <= value < len(dates) else None
    if isinstance(value, str):
        try:
            return pd.Timestamp(value).normalize().tz_localize(None)
        except (ValueError, TypeError):
            return None
    return None


def _fold(raw: Any, dates: pd.DatetimeIndex) -> Fold | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("combo_id"), str):
        return None
    windows = [_fold_date(raw.get(k), dates)
               for k in ("train_start", "train_end", "test_start", "test_end")]
    if any(w is None for w in windows):
        return None
    params = raw.get("params")
    return Fold(*windows, raw["combo_id"], dict(params) if isinstance(params, Mapping) else {},
                _number(raw.get("train_metric")), _number(raw.get("test_metric")))


@dataclass(frozen=True, slots=True)
class Robustness:
    """robustness.json as the report reads it (None: the key was missing or not a number)."""

    n_trials: int | None
    best_combo_id: str | None
    best_sharpe: float | None  # per trading date (docs/robustness.md: Sharpe is per period)
    sr0: float | None
    dsr: float | None
    pbo: float | None
    prob_oos_loss: float | None
    spa_pvalue: float | None
    verdict: str | None
    logits: tuple[float, ...]
    walk_forward: WalkForward | None
    # The rest of the family, as robustness.json holds it (FAMILY_KEYS; missing: absent).
    family: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], dates: pd.DatetimeIndex) -> Robustness:
        """Read defensively: a missing or mistyped key is None, never an error."""
        logits = next((v for v in (_dig(data, k) for k in LOGIT_KEYS) if isinstance(v, list)),
                      [])
        best, verdict, wf = data.get("best_combo_id"), data.get("verdict"), data.get(
            "walk_forward")
        trials = _number(data.get("n_trials"))
        return cls(None if trials is None else int(trials), best if isinstance(best, str) else None,
                   *(_number(data.get(k)) for k in ("best_sharpe", "sr0", "dsr", "pbo",
                                                    "prob_oos_loss", "spa_pvalue")),
                   verdict if isinstance(verdict, str) and verdict.strip() else None,
                   tuple(v for v in map(_number, logits) if v is not None),
                   WalkForward.from_json(wf, dates) if isinstance(wf, Mapping) else None,
                   {key: data[key] for key in FAMILY_KEYS if isinstance(data.get(key), Mapping)})


@dataclass(frozen=True, slots=True, eq=False)
class ReportInputs:
    """A results folder read for the report. `daily` has one column per combo (net $),
    `combo_stats` is indexed by combo_id; `notes` says what optional input was unreadable."""

    folder: Path | None
    manifest: Mapping[str, Any]
    summary: pd.DataFrame
    axes: tuple[str, ...]
    daily: pd.DataFrame
    robustness: Robustness | None = None
    combo_stats: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())
    breakouts: Breakouts | None = None  # stats.json (research-stats --out), when there

    @classmethod
    def from_frames(cls, summary: pd.DataFrame, axes: Sequence[str],
                    daily: pd.DataFrame | None = None,
                    manifest: Mapping[str, Any] | None = None) -> ReportInputs:
        """Inputs held in memory (a notebook, an example): no folder, so no trades.

        >>> s = pd.DataFrame({"combo_id": ["a"], "target": [10], "trades": [3],
        ...                   "net_profit_usd": [12.5]})
        >>> ReportInputs.from_frames(s, ["target"]).daily.shape
        (0, 1)
        """
        if daily is None:
            daily = pd.DataFrame(columns=pd.Index(summary["combo_id"], name="combo_id"),
                                 index=pd.DatetimeIndex([], name="date"), dtype="float64")
        return cls(None, dict(manifest or {}), summary, tuple(axes), daily)

    @classmethod
    def from_folder(cls, folder: Path | str) -> ReportInputs:
        """Read `folder`; a ReportError names what is missing, damaged or changed since the
        sweep wrote it (the manifest's sizes and sha256s) when it is no results folder."""
        folder = Path(folder)
        manifest = _manifest(folder)
        for name in (SUMMARY, DAILY, TRADES):
            _verify(folder, name, manifest)
        summary = _summary(folder, manifest)
        daily = _daily(folder)
        notes: list[str] = []
        robustness = stats = None
        if _analysis_shown(folder, manifest, notes):
            robustness = _optional(folder / ROBUSTNESS, notes, manifest,
                                   lambda p: _robustness(p, daily.index))
            stats = _optional(folder / COMBO_STATS, notes, manifest, _combo_stats)
        breakouts = _breakouts(folder, manifest, notes)
        return cls(folder, manifest, summary, _axes(manifest, summary), daily, robustness,
                   stats, tuple(notes), breakouts)

    @property
    def has_trades(self) -> bool:
        """Whether trades.parquet is there (not with ``store_trades: none``)."""
        return self.folder is not None and regular_file(self.folder / TRADES, ReportError)

    def trades(self, combo_ids: Sequence[str]) -> pd.DataFrame:
        """The stored rows of `combo_ids`: TRADE_COLUMNS, in file order."""
        if self.folder is None:
            raise ReportError("these report inputs have no folder, so no trades")
        path = self.folder / TRADES
        regular_file(path, ReportError)
        try:
            names = [c for c in TRADE_COLUMNS if c in pq.read_schema(path).names]
            table = pq.read_table(path, columns=names,
                                  filters=[("combo_id", "in", list(combo_ids))])
            return table.to_pandas()
        except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
            raise damaged(path, exc, ReportError) from None

    @property
    def instrument(self) -> str | None:
        """The traded instrument's symbol (the manifest's data section, else the spec's)."""
        data = self.manifest.get("data") or {}
        base = _dig(self.manifest, ("spec", "base")) or {}
        return data.get("instrument") or base.get("instrument")


def _manifest(folder: Path) -> Mapping[str, Any]:
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a folder; give a sweep's results folder "
                          "(results/<sweep name>)")
    path = folder / MANIFEST
    if not regular_file(path, ReportError):
        raise ReportError(f"{folder}: no {MANIFEST}: not a sweep's results folder "
                          "(results/<sweep name>)")
    try:
        raw = read_bounded(path, MAX_MANIFEST_BYTES)
    except UnsafeFileError as exc:
        raise ReportError(str(exc)) from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot be read as a manifest ({exc})") from None
    return parse_manifest(raw, path, ReportError, "run the sweep again to rewrite it")



def _verify(folder: Path, name: str, manifest: Mapping[str, Any]) -> None:
    """`name` is what the manifest lists (size, sha256), or a ReportError says so."""
    if regular_file(folder / name, ReportError) and \
            (problem := output_problem(folder, name, manifest)):
        raise ReportError(f"{folder}: {problem}; run the sweep again (python -m "
                          "research.sweep SPEC.yaml) to rewrite it from its results")



def _summary(folder: Path, manifest: Mapping[str, Any]) -> pd.DataFrame:
    path = folder / SUMMARY
    if not regular_file(path, ReportError):
        raise ReportError(f"{folder}: no {SUMMARY} yet (sweep status: "
                          f"{manifest.get('status', 'unknown')}); run the sweep again to "
                          "complete it")
    try:
        summary = pd.read_parquet(path)
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise damaged(path, exc, ReportError) from None
    missing = [c for c in ("combo_id", "net_profit_usd", "trades") if c not in summary.columns]
    if missing:
        raise ReportError(f"{path}: no column {', '.join(missing)}: not a sweep summary")
    return summary


def _daily(folder: Path) -> pd.DataFrame:
    if not regular_file(folder / DAILY, ReportError):
        raise ReportError(f"{folder}: no {DAILY}; run the sweep again to rebuild it")
    try:
        return read_daily(folder / DAILY)
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise damaged(folder / DAILY, exc, ReportError) from None


def _analysis_shown(folder: Path, manifest: Mapping[str, Any], notes: list[str]) -> bool:
    """Whether the analysis' files are of these results (never shown as current if not)."""
    if "analysis" not in manifest or analysis_is_current(manifest):
        return True
    if any(regular_file(folder / name, ReportError) for name in (ROBUSTNESS, COMBO_STATS)):
        record = manifest.get("analysis") or {}
        notes.append(f"{ROBUSTNESS} is not of these results (the manifest's analysis is "
                     f"{shorten(str(record.get('status', 'unknown')), 30)[1:-1]}): stale, left "
                     f"out; {ANALYZE_HINT.partition('(')[2][:-1]} analyses them")
    return False


def _axes(manifest: Mapping[str, Any], summary: pd.DataFrame) -> tuple[str, ...]:
    grid = _dig(manifest, ("spec", "grid"))
    if isinstance(grid, Mapping):  # its keys are sorted (JSON); the summary has grid order
        return tuple(c for c in summary.columns if c in grid)
    return tuple(c for c in summary.columns if c != "combo_id" and c not in METRIC_COLUMNS)


def _optional(path: Path, notes: list[str], manifest: Mapping[str, Any], read):
    if not regular_file(path, ReportError):
        return None
    if problem := output_problem(path.parent, path.name, manifest):
        notes.append(f"{path.name} could not be read as the sweep wrote it ({problem}); its "
                     "sections are left out")
        return None
    try:
        return read(path)
    except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
        notes.append(f"{path.name} could not be read ({type(exc).__name__}: "
                     f"{shorten(str(exc), 80)[1:-1]}); its sections are left out")
        return None


def _breakouts(folder: Path, manifest: Mapping[str, Any], notes: list[str]) -> Breakouts | None:
    """stats.json, if there: not the sweep's output (the manifest does not list it), so a
    damaged one, or one of another instrument, is only noted."""
    try:
        breakouts = read_breakouts(folder)
    except (OSError, ValueError, TypeError, UnsafeFileError) as exc:
        notes.append(f"{STATS_JSON} could not be read ({type(exc).__name__}: "
                     f"{shorten(str(exc), 80)[1:-1]}); the Breakouts section is left out")
        return None
    ours = (manifest.get("data") or {}).get("instrument") or \
        (_dig(manifest, ("spec", "base")) or {}).get("instrument")
    theirs = breakouts.facts.get("instrument") if breakouts is not None else None
    if ours and theirs and theirs != ours:
        notes.append(f"{STATS_JSON} holds statistics of {shorten(theirs, 12)} bars, not of this "
                     f"sweep's {shorten(ours, 12)}: the Breakouts section is left out")
        return None
    return breakouts


def _robustness(path: Path, dates: pd.DatetimeIndex) -> Robustness:
    data = json.loads(read_bounded(path, MAX_MANIFEST_BYTES))
    if not isinstance(data, Mapping):
        raise ValueError(f"holds JSON {type(data).__name__}, not an object")
    return Robustness.from_json(data, dates)


def _combo_stats(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    if "combo_id" not in frame.columns:
        raise KeyError("no combo_id column")
    keep = [c for c in COMBO_STAT_COLUMNS if c in frame.columns]
    return frame.set_index("combo_id")[keep].apply(pd.to_numeric, errors="coerce")
