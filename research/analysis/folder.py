"""The analysis of a results folder: read its summary, daily matrix and manifest, write
``robustness.json`` and ``combo_stats.parquet`` beside them (each atomically).

>>> ROBUSTNESS, COMBO_STATS
('robustness.json', 'combo_stats.parquet')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from research.analysis.combo_stats import combo_stats_table
from research.analysis.config import AnalysisConfig
from research.analysis.fill_band import pessimistic_winner_sentence
from research.analysis.ledger import ledger_path, record_trials
from research.analysis.robustness import Robustness
from research.analysis.run import analyze
from research.errors import AnalysisError, UnsafeFileError
from research.results.atomic import atomic_write, write_parquet
from research.results.daily import DAILY, read_daily
from research.results.safe_files import file_record, read_bounded, read_table, regular_file
from research.results.store import (
    COMBO_STATS,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    ROBUSTNESS,
    SUMMARY,
    SweepStore,
    output_problem,
    parse_manifest,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FolderInputs:
    """What ``analyze`` needs, as read from a results folder; ``config`` is the spec's
    ``analysis:`` section (the defaults where it has none)."""

    daily: pd.DataFrame
    params: pd.DataFrame
    axes: Mapping[str, Sequence[Any]]
    n_failed: int
    config: AnalysisConfig
    fingerprint: str | None = None  # the data's (manifest), which keys the trial ledger
    sweep_name: str = ""
    # the verdict's further sentences from the summary: the fill band (analysis.fill_band)
    notes: tuple[str, ...] = ()


def analyze_folder(results_dir: str | Path,
                   config: AnalysisConfig | None = None) -> Robustness:
    """Analyse a sweep's results folder and write its two files there; returns the result.

    `config` None means the sweep spec's ``analysis:`` settings (the defaults where none).

    >>> import json, pathlib, tempfile, numpy as np, pandas as pd
    >>> from research.results.daily import write_daily
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"combo_id": ["a", "b"], "target": [10, 15]}).to_parquet(root / SUMMARY)
    >>> cents = np.random.default_rng(0).integers(-9000, 9000, (2, 60))
    >>> write_daily(root / DAILY, ["a", "b"], np.arange(19724, 19784), cents)
    >>> spec = {"grid": {"target": [10, 15]}, "analysis": {"train": 30, "test": 10, "blocks": 4}}
    >>> _ = (root / MANIFEST).write_text(json.dumps({"spec": spec}))
    >>> analyze_folder(root).walk_forward.train
    30
    >>> sorted(path.name for path in root.iterdir())
    ['combo_stats.parquet', 'daily.parquet', 'manifest.json', 'robustness.json', 'summary.parquet']
    """
    root = Path(results_dir)
    inputs = read_inputs(root)
    config = config or inputs.config
    result = analyze(inputs.daily, inputs.params, inputs.axes, config, inputs.n_failed,
                     n_ledger=_ledger_count(root, inputs, config), notes=inputs.notes)
    write_outputs(root, result, config)
    logger.info("robustness of %s: %s", root, result.verdict)
    return result


def read_inputs(results_dir: str | Path) -> FolderInputs:
    """The daily matrix (in the summary's order), parameters, axes and failure count.

    >>> read_inputs("no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    research.errors.AnalysisError: no/such/folder: not a folder; give a sweep's ...
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise AnalysisError(f"{root}: not a folder; give a sweep's results folder "
                            "(results/<name>/)")
    manifest = _read_manifest(root / MANIFEST)
    spec = manifest.get("spec") or {}
    grid = spec.get("grid")
    if not isinstance(grid, Mapping):
        raise AnalysisError(f"{root / MANIFEST}: has no spec.grid (the grid's axes and "
                            "values); is it a sweep's manifest?")
    for name, what in ((SUMMARY, "the per-combo summary"), (DAILY, "the daily net $ matrix")):
        if not regular_file(root / name, AnalysisError):
            raise AnalysisError(f"{root}: no {name} ({what}); it is written at the end of "
                                "a sweep: run the sweep again (python -m research.sweep "
                                "SPEC.yaml) to complete the folder")
        if problem := output_problem(root, name, manifest):
            raise AnalysisError(f"{root}: {problem}; run the sweep again (python -m "
                                "research.sweep SPEC.yaml) to rewrite it from its results")
    summary = read_table(root / SUMMARY, pd.read_parquet, AnalysisError)
    daily = read_table(root / DAILY, read_daily, AnalysisError)
    if "combo_id" not in summary.columns:
        raise AnalysisError(f"{root / SUMMARY}: has no combo_id column: not a sweep summary; "
                            "run the sweep again to rewrite it")
    order = summary["combo_id"].astype(str).tolist()
    if set(order) != set(daily.columns):
        extra = sorted(set(daily.columns) ^ set(order))[:3]
        raise AnalysisError(f"{root}: {SUMMARY} and {DAILY} list different combos (e.g. "
                            f"{extra}); run the sweep again to rewrite both")
    params = summary.set_index("combo_id")[[axis for axis in grid if axis in summary]]
    axes = {axis: list(values) for axis, values in grid.items()}
    config = AnalysisConfig.from_mapping(spec.get("analysis"), where=f"{MANIFEST}: analysis")
    fingerprint = manifest.get("data_fingerprint")
    fills = pessimistic_winner_sentence(summary)  # the winner under pessimistic fills
    return FolderInputs(daily[order], params, axes, int(manifest.get("combos_failed") or 0),
                        config, fingerprint if isinstance(fingerprint, str) else None,
                        str(manifest.get("name") or root.name),
                        () if fills is None else (fills[0].upper() + fills[1:] + ".",))


def _ledger_count(root: Path, inputs: FolderInputs, config: AnalysisConfig) -> int | None:
    """Record this sweep's combos in the trial ledger (``ledger.py``) and return how many
    distinct combos it holds for these data; None without a ledger or a fingerprint."""
    path = ledger_path(root.resolve().parent, config.ledger)
    if path is None or not inputs.fingerprint:
        return None
    return record_trials(path, inputs.fingerprint, inputs.daily.columns, inputs.sweep_name)


def write_outputs(results_dir: str | Path, result: Robustness,
                  config: AnalysisConfig | None = None) -> None:
    """robustness.json and combo_stats.parquet, each published atomically (an example:
    ``analyze_folder``); then the manifest lists both (size, sha256) and records the
    analysis as done, with its settings and the daily matrix it read (so a report can tell
    an analysis of other results, and never shows it as current)."""
    root = Path(results_dir)
    with atomic_write(root / ROBUSTNESS) as handle:
        handle.write(result.to_json().encode("utf-8"))
    write_parquet(combo_stats_table(result.combo_stats), root / COMBO_STATS)
    store = SweepStore(root)
    manifest = store.read_manifest()
    if manifest is None:
        return
    record = {"status": "done", "verdict": result.verdict,
              "daily_sha256": file_record(root / DAILY)["sha256"], "n_trials": result.n_trials}
    if config is not None:
        record["settings"] = config.to_dict()
    steps = {**(manifest.get("steps") or {}), "analysis": "done"}
    store.record_outputs([ROBUSTNESS, COMBO_STATS], analysis=record, steps=steps)


def _read_manifest(path: Path) -> dict[str, Any]:
    regular_file(path, AnalysisError)
    try:
        raw = read_bounded(path, MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        raise AnalysisError(f"{path.parent}: no {MANIFEST}; give a sweep's results folder "
                            "(results/<name>/)") from None
    except UnsafeFileError as exc:
        raise AnalysisError(str(exc)) from None
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot be read as a manifest ({exc})") from None
    return parse_manifest(raw, path, AnalysisError, "run the sweep again to rewrite it")
