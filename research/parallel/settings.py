"""ParallelSpec: how a sweep runs (backend, CPU budget, dask scheduler), merged once.

Three layers set it, each over the one before: the spec's ``parallel:`` section, then
``ResearchRunner(...)`` arguments, then CLI flags (the CLI hands its flags to the runner
as its arguments). A field left unset (None) inherits; a layer that switches to another
``backend`` drops the scheduler inherited from below, so ``--backend loky`` on a dask spec
runs locally, while ``--scheduler`` on a loky spec is an error. `resolved()` gives the
settings actually used, recorded in the manifest. On the local backends (loky, sequential)
the budget resolves to at most the usable cores, with a warning: more processes and threads
than cores only thrash; only a dask cluster may be given a larger budget (its size).

>>> spec_layer = ParallelSpec(backend="dask", scheduler="tcp://10.0.0.5:8786", max_cpus=32)
>>> ParallelSpec(backend="loky").over(spec_layer).to_dict()
{'backend': 'loky', 'max_cpus': 32, 'scheduler': None, 'batch_size': None}
>>> spec_layer.resolved().max_cpus
32
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from research.errors import SpecError, shorten
from research.parallel.budget import AUTO, resolve_budget, usable_cores

logger = logging.getLogger(__name__)

BACKENDS = ("loky", "sequential", "dask")  # the one list of backend names
DEFAULT_BACKEND = "loky"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelSpec:
    """One layer of parallel settings; None means "not set here".

    `max_cpus` is "auto" or a positive int (a digit string is read as one); unset or "auto"
    resolves to ``cpu_budget()``. Every given value is checked on construction.
    """

    backend: str | None = None
    max_cpus: int | str | None = None
    scheduler: str | None = None  # a dask scheduler address; None: a local cluster
    batch_size: int | None = None  # combos per task; None: planned (see plan.Plan)

    def __post_init__(self) -> None:
        if self.backend is not None and self.backend not in BACKENDS:
            raise SpecError(f"parallel.backend: {shorten(self.backend)} is not one of {BACKENDS}")
        if self.max_cpus is not None:
            object.__setattr__(self, "max_cpus", _check_max_cpus(self.max_cpus))
        if self.scheduler is not None and (not isinstance(self.scheduler, str)
                                           or not self.scheduler.strip()):
            raise SpecError(f"parallel.scheduler: {shorten(self.scheduler)} is not a string or "
                            "null (a dask scheduler address, e.g. tcp://HOST:8786)")
        if self.batch_size is not None and (isinstance(self.batch_size, bool)
                                            or not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise SpecError(f"parallel.batch_size: {shorten(self.batch_size)} is not a whole "
                            "number >= 1 (combos per task) or null")

    def over(self, lower: ParallelSpec) -> ParallelSpec:
        """These settings, falling back to `lower`'s where unset (see the module doc)."""
        inherit_scheduler = self.backend is None or self.backend == lower.backend
        return ParallelSpec(
            backend=self.backend if self.backend is not None else lower.backend,
            max_cpus=self.max_cpus if self.max_cpus is not None else lower.max_cpus,
            scheduler=self.scheduler if self.scheduler is not None
            else lower.scheduler if inherit_scheduler else None,
            batch_size=self.batch_size if self.batch_size is not None else lower.batch_size)

    def resolved(self) -> ParallelSpec:
        """The settings as run: a backend, the budget as an int, a scheduler only for dask."""
        backend = self.backend or DEFAULT_BACKEND
        if self.scheduler is not None and backend != "dask":
            raise SpecError(f"parallel.scheduler: {shorten(self.scheduler, 100)} is set but the "
                            f"backend is {backend!r}; a scheduler needs backend dask (--backend "
                            "dask), or leave the scheduler out")
        return ParallelSpec(backend=backend, max_cpus=_capped_budget(self.max_cpus, backend),
                            scheduler=self.scheduler, batch_size=self.batch_size)

    @property
    def budget(self) -> int:
        """The CPU budget these settings give (processes x threads stay within it)."""
        return resolve_budget(self.max_cpus)

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "max_cpus": self.max_cpus, "scheduler": self.scheduler,
                "batch_size": self.batch_size}


def _capped_budget(max_cpus: int | str | None, backend: str) -> int:
    """The budget asked for; on a local backend at most the usable cores (a warning says so)."""
    budget = resolve_budget(max_cpus)
    cores = usable_cores()
    if backend != "dask" and budget > cores:
        logger.warning("max_cpus %d is more than the %d usable cores; using %d (only a dask "
                       "cluster may be told more)", budget, cores, cores)
        return cores
    return budget


def _check_max_cpus(value: Any) -> int | str:
    """`value` as resolve_budget reads it: "auto", or the int it names."""
    try:
        budget = resolve_budget(value)
    except ValueError as exc:
        raise SpecError(f"parallel.max_cpus: {shorten(value)} is not 'auto', null or an int >= 1 "
                        "(or its digit string)") from exc
    return AUTO if isinstance(value, str) and value.strip().lower() == AUTO else budget
