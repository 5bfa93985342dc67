"""research: an opening-range breakout engine and a parallel parameter-sweep runner."""

from research.engine.data import load_bars, prepare_bars
from research.engine.params import RunParams
from research.engine.strategy import run_strategy
from research.engine.synthetic import synthetic_bars
from research.errors import DataError, ParamsError, ResearchError, SpecError
from research.outputs import Sweep
from research.parallel.budget import cpu_budget
from research.parallel.processor import ParallelProcessor
from research.research_runner import ResearchRunner
from research.stats.breakouts import BreakoutStats, breakout_stats

__version__ = "0.1.0"
__all__ = ["BreakoutStats", "DataError", "ParallelProcessor", "ParamsError", "ResearchError",
           "ResearchRunner", "RunParams", "SpecError", "Sweep", "breakout_stats", "cpu_budget",
           "load_bars", "prepare_bars", "run_strategy", "synthetic_bars"]
