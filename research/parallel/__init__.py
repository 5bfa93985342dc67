"""CPU budgeting and the inner (thread) layer of parallel range processing."""

from research.parallel.budget import cpu_budget, resolve_budget, split_budget, usable_cores
from research.parallel.processor import ParallelProcessor, ProcessorStats, RangeProcessingError

__all__ = [
    "ParallelProcessor",
    "ProcessorStats",
    "RangeProcessingError",
    "cpu_budget",
    "resolve_budget",
    "split_budget",
    "usable_cores",
]
