"""A sweep prepared once: its settings layered, its bars, trading dates, finished combos and
its plan, streamed a chunk at a time.

`ResearchRunner.run_spec` executes a `PreparedSweep`; ``--dry-run`` (research.cli.dry_run)
plans and calibrates the very same object, so the two never disagree on what would run.
Settings are layered once, here, the way `ParallelSpec.over` layers the parallel ones: the
spec's value, unless the runner was given one (the CLI's flags are the runner's arguments).

>>> from research.engine.synthetic import synthetic_bars
>>> from research.spec.grid import build_spec
>>> spec = build_spec({"target": [10, 15]}, {"instrument": "ES"}, "demo")
>>> settings = RunnerOptions(store_trades="none").over(spec)
>>> settings.store_trades, settings.analysis is not None  # analysed, trades not stored
(False, True)
>>> prepared = PreparedSweep.load(spec, settings, synthetic_bars("ES", "2024-01-02", "2024-01-05"))
>>> [len(chunk.todo) for chunk in prepared.chunks()], prepared.data_label
([2], "the runner's DataFrame")
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from research.analysis.config import AnalysisConfig
from research.engine.bars import Bars
from research.engine.clock import utc_to_chicago
from research.engine.fills import fill_check
from research.engine.inputs import BarsInput, to_bars
from research.engine.params import RunParams
from research.engine.ranges import weekday_trading_days
from research.engine.synthetic import synthetic_bars
from research.errors import SpecError
from research.parallel.settings import ParallelSpec
from research.plan import Plan
from research.progress import Progress, RunFacts
from research.results.compaction import Compaction, find_sources
from research.results.provenance import data_facts, environment
from research.results.schemas import param_table
from research.results.store import SweepStore
from research.spec.bars_cache import cached_bars
from research.spec.grid import SweepSpec, check_grid_size

logger = logging.getLogger(__name__)
T = TypeVar("T")
PLAN_CHUNK = 50_000  # combos planned and run at a time: a huge grid is never held whole


# The manifest's word on a sweep with data.resolve_with (a deliberate difference).
RESOLVED_RESULTS = ("rows the minute bars cannot decide are decided on the 1-second bars of "
                    "data.resolve_with, unlike the reference analyzer (which takes the level "
                    "nearer the close); net_usd_pessimistic/optimistic keep the minute-only "
                    "bounds; undecided_trades counts those still undecided")

@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSettings:
    """How one sweep runs, every layer applied: the resolved parallel settings, whether
    every trade is stored, the largest grid allowed, and what follows the run.

    >>> from research.spec.grid import build_spec
    >>> settings = RunnerOptions().over(build_spec({}, {"instrument": "ES"}, "s"))
    >>> settings.store_trades, settings.max_combos, settings.parallel.backend
    (True, 100000, 'loky')
    """

    parallel: ParallelSpec  # resolved: a backend and an int budget
    store_trades: bool
    max_combos: int
    analysis: AnalysisConfig | None  # None: no robustness analysis
    report: bool
    keep_shards: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerOptions:
    """What the runner was given (`ResearchRunner`'s arguments, which the CLI's flags
    become); None or unset leaves the spec's value.

    >>> from research.spec.grid import build_spec
    >>> RunnerOptions(max_combos=3).over(build_spec({"target": [1, 2]}, {"instrument": "ES"},
    ...                                             "s")).max_combos
    3
    """

    parallel: ParallelSpec = field(default_factory=ParallelSpec)
    store_trades: str | None = None
    max_combos: int | None = None
    analysis: bool = True
    report: bool = True
    keep_shards: bool = False

    def over(self, spec: SweepSpec) -> SweepSettings:
        """These options over `spec`'s: the one place settings are layered. A grid larger
        than allowed is refused here, before any work."""
        parallel = self.parallel.over(spec.parallel).resolved()
        check_grid_size(spec, self.max_combos)
        return SweepSettings(
            parallel=parallel, store_trades=(self.store_trades or spec.store_trades) == "all",
            max_combos=self.max_combos or spec.max_combos,
            analysis=spec.analysis if self.analysis and spec.analysis.enabled else None,
            report=self.report, keep_shards=self.keep_shards)


@dataclass(frozen=True, slots=True)
class Chunk:
    """`PreparedSweep.plan_chunk` combos of the grid: every combo's id (done or not, in grid
    order), those still to run and their plan.

    >>> from research.engine.params import RunParams
    >>> todo = [RunParams(instrument="ES", target=10)]
    >>> len(Chunk([todo[0].combo_id], todo, Plan.for_combos(todo, budget=1)).plan.tasks)
    1
    """

    combo_ids: list[str]
    todo: list[RunParams]
    plan: Plan


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedSweep:
    """A spec with its settings, bars, trading dates and the finished combos it may skip.

    `load` builds it (nothing written), `resumed` adds what a results folder already holds,
    `chunks` streams the plan; `manifest`, `first_line` and `compaction` are what the run
    writes from it.

    >>> from research.engine.synthetic import synthetic_bars
    >>> from research.spec.grid import build_spec
    >>> spec = build_spec({"target": [10, 15]}, {"instrument": "ES"}, "demo")
    >>> prepared = PreparedSweep.load(spec, RunnerOptions().over(spec),
    ...                               synthetic_bars("ES", "2024-01-02", "2024-01-05"))
    >>> prepared.manifest()["spec_hash"] == spec.spec_hash, len(prepared.dates)
    (True, 4)
    """

    spec: SweepSpec
    settings: SweepSettings
    bars: Bars
    dates: np.ndarray  # the weekday trading dates: the daily matrix's rows
    data_label: str
    done: frozenset[str] = frozenset()
    plan_chunk: int = PLAN_CHUNK

    @classmethod
    def load(cls, spec: SweepSpec, settings: SweepSettings, data: BarsInput | None = None,
             progress: Progress | None = None, *, plan_chunk: int = PLAN_CHUNK,
             ) -> PreparedSweep:
        """`spec`'s bars (or the runner's `data`) and their trading dates. The data is named
        on `progress` before it is read: reading may take a while."""
        label = data_label(spec, data)
        if progress is not None and (spec.data is not None or isinstance(data, (str, Path))):
            progress.note(f"sweep {spec.name}: loading {label} ...")
        bars = sweep_bars(spec, data)
        return cls(spec=spec, settings=settings, bars=bars, dates=weekday_trading_days(bars),
                   data_label=label, plan_chunk=plan_chunk)

    def resumed(self, store: SweepStore, *, read_only: bool = False) -> PreparedSweep:
        """With the combos `store` holds whole. A shard whose files disagree (truncated,
        empty, deleted or swapped: its footers say so) is discarded, said in one line, and
        its combos run again; so are combos the compacted files do not hold whole.
        `read_only` (a dry run) leaves the folder as it is and says nothing."""
        sources = find_sources(store, self.dates, with_trades=self.settings.store_trades)
        for name, problem in ({} if read_only else sources.problems).items():
            where = store.root if name == "compacted" else store.shards / name
            logger.warning("%s: %s; its combos will be computed again", where, problem)
            if name != "compacted":
                store.discard_task(name)
        done = {combo for source in sources.usable if source.name not in sources.problems
                or source.name == "compacted" for combo in source.combos()}
        return replace(self, done=frozenset(done))

    @property
    def size(self) -> int:
        return self.spec.size

    def chunks(self) -> Iterator[Chunk]:
        """The grid `plan_chunk` combos at a time, each chunk's combos not done planned on
        the settings' budget: the grid is streamed, never held whole."""
        parallel = self.settings.parallel
        for combos in _chunks(self.spec.iter_combos(), self.plan_chunk):
            todo = [rp for rp in combos if rp.combo_id not in self.done]
            plan = Plan.for_combos(todo, parallel.budget, parallel.batch_size,
                                   n_dates=len(self.dates))
            yield Chunk([rp.combo_id for rp in combos], todo, plan)

    def first_line(self, first: Chunk) -> RunFacts:
        """The first line's facts, once the first chunk is planned: exact for a grid of one
        chunk (a larger one counts what finished earlier)."""
        size = self.size
        done = (len(first.combo_ids) - len(first.todo) if size <= len(first.combo_ids)
                else min(len(self.done), size))
        start, end = bar_dates(self.bars)
        return RunFacts(name=self.spec.name, combos=size, done=done,
                        tasks=len(first.plan.tasks), processes=first.plan.processes,
                        threads=first.plan.threads, backend=self.settings.parallel.backend,
                        data=self.data_label, bars=len(self.bars), first_date=start,
                        last_date=end)

    def manifest(self) -> dict[str, Any]:
        """The manifest's facts about the spec and its data; the store adds the trusted ones
        (data fingerprint, engine version, layout)."""
        spec = self.spec
        resolve_with = None if spec.data is None else spec.data.resolve_with
        fills = {**fill_check(self.bars).to_dict(), "resolve_with": resolve_with}
        if resolve_with is not None:
            fills["results"] = RESOLVED_RESULTS
        return {**environment(), "spec": spec.to_dict(), "spec_hash": spec.spec_hash,
                "source": spec.source, "grid_size": spec.size, "data": data_facts(self.bars),
                "fills": fills}

    def compaction(self, store: SweepStore, combo_ids: Iterable[str]) -> Compaction:
        """The compaction of `store`'s finished combos; `combo_ids` is every combo's id in
        grid order (Chunk.combo_ids one after another)."""
        grid = zip(combo_ids, self.spec.iter_values(), strict=True)
        return Compaction.of(store, grid, self.spec.param_columns(), self.dates,
                             store_trades=self.settings.store_trades)

    def axis_frame(self) -> pd.DataFrame:
        """Each combo's axis values as the summary holds them (a list-valued axis as JSON
        text), in grid order: what the heatmaps are drawn over."""
        values = param_table(list(self.spec.iter_values()), self.spec.param_columns())
        return values.to_pandas()


def sweep_bars(spec: SweepSpec, data: BarsInput | None = None) -> Bars:
    """The runner's `data`, else the spec's data section, as Bars of base.instrument.

    >>> from research.spec.grid import spec_from_dict
    >>> spec = spec_from_dict({"base": {"instrument": "ES"}, "data": {"synthetic": {
    ...     "start": "2024-01-02", "end": "2024-01-02"}}})
    >>> len(sweep_bars(spec)) > 0
    True
    """
    instrument = spec.base["instrument"]
    if data is not None:
        return to_bars(data, instrument)
    if spec.data is None:
        raise SpecError("data: missing; give ResearchRunner(data=...) or a spec with data")
    if spec.data.synthetic is not None:
        return to_bars(synthetic_bars(**spec.data.synthetic_kwargs()), instrument)
    return cached_bars(spec.data.path, spec.data.load, spec.data.cache)  # checked at parse


def expected_dates(spec: SweepSpec, data: BarsInput | None = None) -> int | None:
    """The trading dates `spec`'s data will likely hold, before it is read (about 5 in 7
    calendar days from its start to its end, or its synthetic ones): what the runner sizes
    the worker processes it starts while the data loads by. None: not known (the runner's
    `data`, a path without start and end).

    >>> from research.spec.grid import spec_from_dict
    >>> expected_dates(spec_from_dict({"base": {"instrument": "ES"}, "data": {"synthetic": {
    ...     "start": "2024-01-01", "end": "2024-12-31"}}}))
    261
    """
    source = spec.data
    if data is not None or source is None:
        return None
    span = (source.synthetic_kwargs() if source.synthetic is not None
            else {"start": source.start, "end": source.end})
    if not span.get("start") or not span.get("end"):
        return None
    days = (pd.Timestamp(span["end"]) - pd.Timestamp(span["start"])).days + 1
    return max(1, days * 5 // 7)


def data_label(spec: SweepSpec | None, data: BarsInput | None = None) -> str:
    """Where the bars for `spec` come from (the runner's `data` first), in a few words.

    >>> data_label(None, "data/ES.parquet")
    'data/ES.parquet'
    """
    if data is not None:
        return str(data) if isinstance(data, (str, Path)) else \
            f"the runner's {type(data).__name__}"
    if spec is None or spec.data is None:
        return "no data"
    return spec.data.label(spec.base["instrument"])


def bar_dates(bars: Bars) -> tuple[str, str]:
    """The first and last bar's Chicago calendar dates, as a spec's data start/end are
    written ("-" without bars).

    >>> from research.engine.synthetic import synthetic_bars
    >>> bar_dates(to_bars(synthetic_bars("ES", "2024-01-01", "2024-01-31"), "ES"))
    ('2024-01-01', '2024-01-31')
    """
    if not len(bars):
        return "-", "-"
    first, last = utc_to_chicago(bars.ts_ns[[0, -1]])
    return f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
