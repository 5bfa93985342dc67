"""Command line: python -m research.sweep SPEC.yaml [options].

Exit codes: 0 all combos finished, 1 some combos failed, 2 bad input (or the results folder
is being written by another run), 3 the results could not be written (disk full, no
permission), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from research.engine.pipeline import ENGINE_STAGES, Stages
from research.errors import ResearchError, Terminated
from research.parallel.settings import BACKENDS
from research.store import MANIFEST, StoreWriteError

logger = logging.getLogger("research.sweep")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m research.sweep",
        description="Run a parameter sweep of the breakout engine and store its results.")
    parser.add_argument("spec", help="sweep spec (YAML), e.g. sweeps/grid.yaml")
    parser.add_argument("--max-cpus", help="CPU budget: a number or 'auto' "
                        "(default: the spec's parallel.max_cpus, else 75%% of cores, max 8)")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="how to run the combos (default: the spec's, else loky)")
    parser.add_argument("--scheduler", help="dask scheduler address (backend dask)")
    parser.add_argument("--batch-size", type=int,
                        help="combos per task (default: planned from the grid and the data)")
    parser.add_argument("--results-dir", default="results", help="output root (default: results)")
    parser.add_argument("--store-trades", choices=("all", "none"),
                        help="store every trade (all) or only the summary and daily matrix "
                        "(none, for very large grids); default: the spec's, else all")
    parser.add_argument("--keep-shards", action="store_true",
                        help="keep the per-task shards after compaction (default: removed)")
    parser.add_argument("--max-combos", type=int,
                        help="allow a grid of up to N combos (default: the spec's max_combos, "
                        "else 100,000)")
    parser.add_argument("--no-analysis", action="store_true",
                        help="skip the robustness analysis at the end (python -m "
                        "research.analyze RESULTS_DIR runs it later)")
    parser.add_argument("--fresh", action="store_true",
                        help="discard earlier results of this sweep instead of resuming")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, stages: Stages = ENGINE_STAGES) -> int:
    """The CLI; `stages` swaps engine stages (a seam for tests, see engine.pipeline.Stages)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(args, stages)
    except Terminated:
        print("terminated: finished combos are kept; run the same command again to continue",
              file=sys.stderr)
        return 128 + signal.SIGTERM
    except StoreWriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ResearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished combos are kept; run the same command again to continue",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(f"signal {signum}")


def _run(args: argparse.Namespace, stages: Stages) -> int:
    from research.grid import load_spec
    from research.report import format_top
    from research.research_runner import ResearchRunner

    spec = load_spec(args.spec)
    # The flags are the runner's arguments, so they win over the spec's parallel: section.
    runner = ResearchRunner(results_dir=args.results_dir, max_cpus=args.max_cpus,
                            backend=args.backend, scheduler=args.scheduler,
                            batch_size=args.batch_size, store_trades=args.store_trades,
                            keep_shards=args.keep_shards, analysis=not args.no_analysis,
                            max_combos=args.max_combos,
                            progress=not args.quiet, stages=stages)
    sweep = runner.run_spec(spec, fresh=args.fresh)
    failed = sweep.failed
    if not args.quiet:
        print(format_top(sweep.summary, spec.axes, n=10))
    print(f"results: {sweep.path}")
    analysis = sweep.manifest.get("analysis") or {}
    if analysis.get("verdict"):
        print(analysis["verdict"])
    if failed:
        print(f"{len(failed)} combo(s) failed; see {sweep.path / MANIFEST}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
