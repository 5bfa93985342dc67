"""AnalysisConfig: the settings of one robustness analysis (a sweep spec's ``analysis:``).

Frozen, keyword-only and JSON-round-trippable like ``RunParams``. Every field is checked
when the config is built; ``from_mapping`` also refuses unknown keys, so a YAML section
fails before any work with a message naming the key, the value and what is allowed.

>>> AnalysisConfig(train=63, test=21).step_dates
21
>>> AnalysisConfig.from_mapping({"train": 63, "anchored": True}).to_dict()["anchored"]
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from research.analysis.stats import METRICS
from research.errors import SpecError, shorten

AUTO = "auto"  # block_length: chosen from the data (resample.choose_block_length)
MAX_CPCV_SPLITS = 20_000  # CPCV's splits, each a matrix product over the combos
MAX_BLOCKS = 20  # C(20, 10) = 184,756 CSCV splits; C(22, 11) would be 705,432
MIN_BOOTSTRAP_REPS = 100  # fewer cannot place a 2.5 % percentile
TRIAL_COUNTS = ("ledger", "sweep", "effective")  # which N the corrections deflate by


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisConfig:
    """What the analysis does; the defaults are docs/robustness.md's.

    - ``train`` / ``test`` / ``step``: walk-forward windows in trading dates (§1);
      ``step`` None means ``test``; it may not be shorter (test windows must not overlap).
    - ``anchored``: training windows all start at the first date instead of rolling.
    - ``metric``: how combos are ranked (walk-forward choice, CSCV statistic, plateau):
      one of ``research.analysis.stats.METRICS``.
    - ``blocks``: CSCV's S, even (§2).
    - ``seed``: seeds every bootstrap (SPA and intervals), so a re-run gives the same bytes.
    - ``bootstrap_reps``: stationary-bootstrap replications (SPA and intervals).
    - ``block_length``: the bootstrap's mean block length in dates; None (or "auto") picks
      it from the data (Politis & White's optimal block length, as
      ``arch.bootstrap.optimal_block_length`` computes it: research.analysis.block_length).
    - ``enabled``: False turns the analysis off at the end of a sweep.
    - ``ledger``: the trial ledger (``research.analysis.ledger``): None for the results
      root's ``trial_ledger.jsonl``, a path (relative to the results root) to share one,
      or "off".
    - ``trials``: the N that DSR, SPA and the haircut deflate by: "ledger" (every distinct
      combo tried on these data), "sweep" (this sweep's) or "effective" (Li & Ji 2005);
      the others are reported beside it.
    - ``cpcv_groups`` / ``cpcv_test_groups``: combinatorial purged CV's N groups and k test
      groups (López de Prado 2018, ch. 12); ``purge_dates`` / ``embargo_dates``: training
      dates dropped before / after each test group.

    >>> AnalysisConfig(train=63, anchored=True).step_dates
    21
    """

    train: int = 126
    test: int = 21
    step: int | None = None
    anchored: bool = False
    metric: str = "sharpe"
    blocks: int = 16
    seed: int = 0
    bootstrap_reps: int = 1000
    block_length: int | None = None
    enabled: bool = True
    ledger: str | None = None
    trials: str = "ledger"
    cpcv_groups: int = 10
    cpcv_test_groups: int = 2
    purge_dates: int = 1
    embargo_dates: int = 2

    def __post_init__(self) -> None:
        _check_values({name: getattr(self, name) for name in FIELD_NAMES}, "")

    @property
    def step_dates(self) -> int:
        """The walk-forward step, resolved: ``step`` or, when None, ``test``."""
        return self.test if self.step is None else self.step

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None,
                     where: str = "analysis") -> AnalysisConfig:
        """Validate a YAML-shaped mapping (None: all defaults); errors name ``where.key``.

        >>> AnalysisConfig.from_mapping({"blocks": 15})
        Traceback (most recent call last):
        ...
        research.errors.SpecError: analysis.blocks: 15 is not an even integer from 2 to 20
        """
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise SpecError(f"{where}: expected a mapping of {', '.join(FIELD_NAMES)}, "
                            f"got {raw!r}")
        unknown = [key for key in raw if key not in FIELD_NAMES]
        if unknown:
            raise SpecError(f"{where}: unknown key(s) {unknown}; allowed: "
                            f"{', '.join(FIELD_NAMES)}")
        values = dict(raw)
        if isinstance(values.get("block_length"), str) and \
                values["block_length"].strip().lower() == AUTO:
            values["block_length"] = None
        _check_values({**_DEFAULTS, **values}, where)  # so that errors name `where`
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict; ``from_mapping`` reads it back."""
        return asdict(self)


FIELD_NAMES = tuple(f.name for f in fields(AnalysisConfig))
_DEFAULTS = {f.name: f.default for f in fields(AnalysisConfig)}


def _check_values(values: Mapping[str, Any], where: str) -> None:
    """Every field's type and range; the first problem is raised as a SpecError."""
    def name(key: str) -> str:
        return f"{where}.{key}" if where else key

    _check_int(name("train"), values["train"], 2, "(a Sharpe ratio needs two dates)")
    _check_int(name("test"), values["test"], 1)
    step = values["step"]
    if step is not None:
        _check_int(name("step"), step, 1)
        if step < values["test"]:
            raise SpecError(f"{name('step')}: {step!r} is shorter than test "
                            f"{values['test']!r}; test windows must not overlap (null: = test)")
    for key in ("anchored", "enabled"):
        if not isinstance(values[key], bool):
            raise SpecError(f"{name(key)}: {values[key]!r} is not true or false")
    if not isinstance(values["metric"], str) or values["metric"] not in METRICS:
        raise SpecError(f"{name('metric')}: {values['metric']!r} is not one of "
                        f"{', '.join(METRICS)}")
    blocks = values["blocks"]
    if not _is_int(blocks) or blocks % 2 or not 2 <= blocks <= MAX_BLOCKS:
        raise SpecError(f"{name('blocks')}: {blocks!r} is not an even integer from 2 to "
                        f"{MAX_BLOCKS}")
    _check_int(name("seed"), values["seed"], 0)
    _check_int(name("bootstrap_reps"), values["bootstrap_reps"], MIN_BOOTSTRAP_REPS)
    if values["block_length"] is not None:
        _check_int(name("block_length"), values["block_length"], 1, f"(or null / {AUTO!r})")
    ledger = values["ledger"]
    if ledger is not None and (not isinstance(ledger, str) or not ledger.strip()):
        raise SpecError(f"{name('ledger')}: {shorten(ledger)} is not a file path or 'off'")
    if values["trials"] not in TRIAL_COUNTS:
        raise SpecError(f"{name('trials')}: {shorten(values['trials'])} is not one of "
                        f"{', '.join(TRIAL_COUNTS)}")
    _check_int(name("cpcv_groups"), values["cpcv_groups"], 2)
    _check_int(name("cpcv_test_groups"), values["cpcv_test_groups"], 1)
    if values["cpcv_test_groups"] >= values["cpcv_groups"]:
        raise SpecError(f"{name('cpcv_test_groups')}: {values['cpcv_test_groups']!r} is not "
                        f"below cpcv_groups {values['cpcv_groups']!r} (training needs a group)")
    if math.comb(values["cpcv_groups"], values["cpcv_test_groups"]) > MAX_CPCV_SPLITS:
        raise SpecError(f"{name('cpcv_groups')}: C({values['cpcv_groups']}, "
                        f"{values['cpcv_test_groups']}) splits is more than {MAX_CPCV_SPLITS:,}")
    _check_int(name("purge_dates"), values["purge_dates"], 0)
    _check_int(name("embargo_dates"), values["embargo_dates"], 0)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # YAML true is not 1


def _check_int(where: str, value: Any, minimum: int, why: str = "") -> None:
    if not _is_int(value) or value < minimum:
        raise SpecError(f"{where}: {value!r} is not an integer >= {minimum}"
                        + (f" {why}" if why else ""))

