"""A sweep's results folder, read back: `Sweep`.

>>> from research import ResearchRunner, synthetic_bars
>>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-03-31"), progress=False)
>>> sweep = runner.run(grid={"target": [10, 15, 20]}, base={"instrument": "ES"}, name="demo")
>>> list(sweep.summary["target"]), sweep.failed
([10, 15, 20], [])
>>> daily = sweep.daily()  # net $ per trading date (rows) and combo (columns)
>>> bool((daily.sum().round(2) == sweep.summary.set_index("combo_id")["net_profit_usd"]).all())
True
>>> sweep.robustness().n_trials  # is the best of them skill or luck? (see docs/robustness.md)
3

The examples below read this sweep back from its folder, results/demo (one sweep for all of
them: each run of the runner costs seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from research.results.daily import DAILY, read_daily

if TYPE_CHECKING:
    from research.analysis import AnalysisConfig, Robustness
from research.engine.results import categorize_text
from research.errors import ReportError, ResearchError, UnsafeFileError
from research.report import DEFAULT_RANK, top_combos
from research.results.safe_files import is_regular, read_bounded, read_table, regular_file
from research.results.store import (
    HEATMAP_GLOB,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    REPORT,
    SUMMARY,
    SUMMARY_CSV,
    TRADES,
    parse_manifest,
)


@dataclass(frozen=True, slots=True)
class Sweep:
    """A finished (or partly finished) sweep on disk, at `path` (results/<name>).

    `ResearchRunner.run` returns one; ``Sweep(Path("results/default"))`` reads any results
    folder back, e.g. in a notebook after a CLI run.

    >>> Sweep("results/demo").summary["target"].tolist()  # the module example's sweep
    [10, 15, 20]
    """

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def manifest(self) -> dict[str, Any]:
        """manifest.json: the spec, data, versions, plan, timings, status and failures.

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sweep.manifest["status"], sweep.manifest["combos_ok"]
        ('complete', 3)
        """
        path = self.path / MANIFEST
        try:
            if not is_regular(path):
                raise ReportError(f"{self.path}: no {MANIFEST}: not a sweep's results folder")
            raw = read_bounded(path, MAX_MANIFEST_BYTES)
        except UnsafeFileError as exc:
            raise ReportError(str(exc)) from None
        except OSError as exc:
            raise ReportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        return parse_manifest(raw, path, ReportError, "run the sweep again to rewrite it")

    @property
    def summary(self) -> pd.DataFrame:
        """One row per finished combo, in grid order: combo_id, the grid axes, metrics
        (research.results.metrics.METRIC_COLUMNS).

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sweep.summary[["target", "trades"]].shape
        (3, 2)
        """
        return _read(self.path / SUMMARY, pd.read_parquet)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The failed combos: combo_id, params, error and traceback of each.

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sweep.failed
        []
        """
        return self.manifest.get("failures", [])

    def top(self, n: int = 10, by: str = DEFAULT_RANK) -> pd.DataFrame:
        """The `n` best combos by metric `by` (net $ after costs by default): summary rows,
        best first; for drawdowns and costs the lowest is best (report.top_combos).

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sweep.top(1, by="win_rate").columns[:2].tolist()
        ['combo_id', 'target']
        >>> len(sweep.top(5))  # at most as many as there are combos
        3
        """
        return top_combos(self.summary, by, n)

    def trades(self, combo_id: str | None = None) -> pd.DataFrame:
        """Every combo's rows with combo_id, or only `combo_id`'s (the typed columns).

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> one = sweep.summary["combo_id"][0]
        >>> set(sweep.trades(one)["combo_id"]) == {one}
        True
        """
        if not regular_file(self.path / TRADES, ReportError):
            raise ResearchError(f"{self.path}: no {TRADES}: this sweep stored no trades "
                                "(store_trades: none); its summary and daily matrix are there")
        filters = None if combo_id is None else [("combo_id", "==", combo_id)]
        return categorize_text(_read(self.path / TRADES,
                                     lambda path: pd.read_parquet(path, filters=filters)))

    def robustness(self, config: AnalysisConfig | None = None) -> Robustness:
        """Walk-forward, PBO, CPCV, deflated Sharpe, SPA (raw and studentized), StepM, the
        Harvey-Liu haircut, intervals and plateaus of this sweep (docs/robustness.md), from its
        daily matrix, deflated by the N of the results root's trial ledger; `config` None
        means the spec's settings. Rewrites the folder's robustness.json and
        combo_stats.parquet and records the sweep's combos in the ledger.

        >>> from research.analysis import AnalysisConfig
        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> result = sweep.robustness(AnalysisConfig(train=20, test=10, blocks=4))
        >>> result.n_trials, len(result.walk_forward.folds)  # 66 dates: 4 folds of 20 + 10
        (3, 4)
        """
        from research.analysis import analyze_folder  # only when asked

        return analyze_folder(self.path, config)

    def daily(self, combo_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """The daily matrix: index the trading dates, columns combo_id (grid order), values
        net $ after costs (0 where a combo did not trade); only `combo_ids` if given.

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sweep.daily().shape[1]
        3
        """
        return _read(self.path / DAILY, lambda path: read_daily(path, combo_ids))

    @property
    def heatmaps(self) -> list[Path]:
        """The heatmap PNGs, one per pair of numeric grid axes (none with fewer than two).

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sweep.heatmaps  # one axis: no pair to draw
        []
        """
        return sorted(path for path in self.path.glob(HEATMAP_GLOB)
                      if regular_file(path, ReportError))

    def files(self) -> dict[str, Path | list[Path]]:
        """The sweep's output files that exist, by what they hold: report, summary (CSV),
        trades, daily, heatmaps (a list), manifest.

        >>> sweep = Sweep("results/demo")  # the module example's sweep
        >>> sorted(sweep.files())
        ['daily', 'heatmaps', 'manifest', 'report', 'summary', 'trades']
        """
        found: dict[str, Path | list[Path]] = {}
        for key, name in (("report", REPORT), ("summary", SUMMARY_CSV), ("trades", TRADES),
                          ("daily", DAILY), ("manifest", MANIFEST)):
            if regular_file(self.path / name, ReportError):
                found[key] = self.path / name
        found["heatmaps"] = self.heatmaps
        return found



def _read(path: Path, reader: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    """A results file read; missing, damaged, truncated or mistyped: one ReportError."""
    if not regular_file(path, ReportError):
        raise ReportError(f"{path}: missing; run the sweep again to complete its folder")
    return read_table(path, reader, ReportError)
