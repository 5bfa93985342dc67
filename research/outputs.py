"""A sweep's results folder, read back: `Sweep`.

>>> from research import ResearchRunner, synthetic_bars
>>> runner = ResearchRunner(data=synthetic_bars("ES", "2024-01-01", "2024-01-31"),
...                         results_dir=__import__("tempfile").mkdtemp(), progress=False)
>>> sweep = runner.run(grid={"target": [10, 15]}, base={"instrument": "ES"}, name="demo")
>>> list(sweep.summary["target"]), sweep.failed
([10, 15], [])
>>> daily = sweep.daily()  # net $ per trading date (rows) and combo (columns)
>>> bool((daily.sum().round(2) == sweep.summary.set_index("combo_id")["net_profit_usd"]).all())
True
>>> sweep.robustness().n_trials  # is the best of them skill or luck? (see the README)
2
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from research.analysis import AnalysisConfig, Robustness, analyze_folder
from research.daily import DAILY, read_daily
from research.engine.results import categorize_text
from research.errors import ResearchError
from research.store import MANIFEST, SUMMARY, TRADES


@dataclass(frozen=True, slots=True)
class Sweep:
    """A finished (or partly finished) sweep on disk, at `path` (results/<name>)."""

    path: Path

    @property
    def manifest(self) -> dict[str, Any]:
        """manifest.json: the spec, data, versions, plan, timings, status and failures."""
        return json.loads((self.path / MANIFEST).read_text())

    @property
    def summary(self) -> pd.DataFrame:
        """One row per finished combo, in grid order: combo_id, the grid axes, metrics."""
        return pd.read_parquet(self.path / SUMMARY)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The failed combos: combo_id, params, error and traceback of each."""
        return self.manifest.get("failures", [])

    def trades(self, combo_id: str | None = None) -> pd.DataFrame:
        """Every combo's rows with combo_id, or only `combo_id`'s (the typed columns)."""
        if not (self.path / TRADES).exists():
            raise ResearchError(f"{self.path}: no {TRADES}: this sweep stored no trades "
                                "(store_trades: none); its summary and daily matrix are there")
        filters = None if combo_id is None else [("combo_id", "==", combo_id)]
        return categorize_text(pd.read_parquet(self.path / TRADES, filters=filters))

    def robustness(self, config: AnalysisConfig | None = None) -> Robustness:
        """Walk-forward, PBO, deflated Sharpe, SPA, intervals and plateaus of this sweep
        (ROBUSTNESS.md), from its daily matrix; `config` None means the spec's settings.
        Rewrites the folder's robustness.json and combo_stats.parquet."""
        return analyze_folder(self.path, config)

    def daily(self, combo_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """The daily matrix: index the trading dates, columns combo_id (grid order), values
        net $ after costs (0 where a combo did not trade); only `combo_ids` if given."""
        return read_daily(self.path / DAILY, combo_ids)
