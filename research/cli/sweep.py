"""Command line: ``python -m research.sweep SPEC.yaml [options]`` (or ``research-sweep``).

On stderr: the first line (what runs, how it is split, on which data), then a progress bar
on a terminal or a plain line every 10 s elsewhere (a log file, CI). On stdout: the top
table and the closing block (wall time, ok/failed counts, where the files are), ending
with ``results: <folder>``.

Exit codes (research.cli.shell): 0 all combos finished, 1 some combos failed, 2 bad input
(or the results folder is being written by another run), 3 the results could not be written
(disk full, no permission), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). The wall
time in the closing block counts from this command's start, not its parent shell's.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from research.cli import shell
from research.engine.pipeline import ENGINE_STAGES, Stages
from research.parallel.settings import BACKENDS
from research.progress import clock
from research.report import DEFAULT_RANK
from research.results.metrics import METRIC_COLUMNS
from research.results.store import MANIFEST

logger = logging.getLogger("research.cli.sweep")
DEFAULT_TOP = 10
KEPT = "finished combos are kept; run the same command again to continue"
EPILOG = f"""\
examples:
  run the default sweep (84 combos of one year of synthetic ES):
    %(prog)s sweeps/grid.yaml
  check a spec, see the plan and a time estimate, write nothing:
    %(prog)s sweeps/grid.yaml --dry-run
  the closing table: the 20 best combos by Sharpe ratio:
    %(prog)s sweeps/grid.yaml --rank-by sharpe --top 20
  four CPUs, results elsewhere:
    %(prog)s my.yaml --max-cpus 4 --results-dir /data/results
  progress into a log file (a plain line every 10 s):
    %(prog)s my.yaml 2> sweep.log
  on a Dask cluster:
    %(prog)s my.yaml --backend dask --scheduler tcp://HOST:8786 --max-cpus 32

An interrupted sweep continues where it stopped: run the same command again.

metrics for --rank-by (default {DEFAULT_RANK}; drawdowns and costs rank lowest first):
{textwrap.fill(", ".join(METRIC_COLUMNS), width=88, initial_indent="  ", subsequent_indent="  ")}

exit codes: 0 all combos finished, 1 some combos failed (see manifest.json),
  2 bad input, 3 the results could not be written, 130 interrupted, 143 terminated
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The CLI's options; a mistake exits 2 with argparse's usage message.

    >>> args = parse_args(["sweeps/grid.yaml", "--rank-by", "sharpe", "--top", "3"])
    >>> args.rank_by, args.top, args.dry_run
    ('sharpe', 3, False)
    """
    parser = argparse.ArgumentParser(
        prog=shell.prog("sweep"), epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument("--no-report", action="store_true",
                        help="write no report.html (python -m research.report RESULTS_DIR "
                        "writes it later)")
    parser.add_argument("--max-combos", type=int,
                        help="allow a grid of up to N combos (default: the spec's max_combos, "
                        "else 100,000)")
    parser.add_argument("--no-analysis", action="store_true",
                        help="skip the robustness analysis at the end (python -m "
                        "research.cli.analyze RESULTS_DIR runs it later)")
    parser.add_argument("--fresh", action="store_true",
                        help="discard earlier results of this sweep instead of resuming")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate the spec, load the data, print the plan and a time "
                        "estimate from a short calibration run; write nothing")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="the prepared-bars cache's folder (default: the spec's "
                        "data.cache_dir, else $XDG_CACHE_HOME/research or ~/.cache/research)")
    parser.add_argument("--no-cache", action="store_true",
                        help="read the data files, neither reading nor writing the "
                        "prepared-bars cache")
    parser.add_argument("--rank-by", default=DEFAULT_RANK, choices=METRIC_COLUMNS,
                        metavar="METRIC", help="metric that orders the closing table "
                        f"(default: {DEFAULT_RANK}; the names are listed below)")
    parser.add_argument("--top", type=_positive_int, default=DEFAULT_TOP, metavar="N",
                        help=f"rows of the closing table (default: {DEFAULT_TOP})")
    parser.add_argument("--quiet", action="store_true",
                        help="no first line, no progress, no table: only the results line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, stages: Stages = ENGINE_STAGES) -> int:
    """The CLI: returns the exit code. `stages` swaps engine stages (a seam for tests,
    see engine.pipeline.Stages).

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     main(["no-such-spec.yaml", "--quiet"])
    2
    >>> err.getvalue()  # doctest: +ELLIPSIS
    'error: no-such-spec.yaml: cannot read the spec (No such file or directory)\\n'
    """
    started_s = time.perf_counter()  # this command's own start: never a parent shell's age
    # Python's start and the imports before main(), for the dry run's estimate: the CPU
    # time this process has used (a parent shell that exec'd it used next to none); none
    # when main() is called in a longer-lived process (a test, a notebook)
    imports_s = time.process_time() if argv is None else 0.0
    args = parse_args(argv)
    return shell.run(lambda: _run(args, stages, started_s, imports_s), verbose=args.verbose,
                     kept=KEPT, command_line=argv is None)


def _run(args: argparse.Namespace, stages: Stages, started_s: float, imports_s: float) -> int:
    from research.research_runner import ResearchRunner
    from research.spec.grid import load_spec

    spec = load_spec(args.spec)
    if spec.data is not None:  # the cache flags over the spec's data.cache_dir
        spec = dataclasses.replace(spec, data=spec.data.with_cache(args.cache_dir,
                                                                   enabled=not args.no_cache))
    # The flags are the runner's arguments, so they win over the spec's parallel: section.
    runner = ResearchRunner(results_dir=args.results_dir, max_cpus=args.max_cpus,
                            backend=args.backend, scheduler=args.scheduler,
                            batch_size=args.batch_size, store_trades=args.store_trades,
                            keep_shards=args.keep_shards, analysis=not args.no_analysis,
                            max_combos=args.max_combos, report=not args.no_report,
                            progress=not args.quiet, stages=stages)
    if args.dry_run:
        from research.cli.dry_run import dry_run

        result = dry_run(runner, spec, fresh=args.fresh, quiet=args.quiet,
                         startup_s=imports_s + time.perf_counter() - started_s)
        print(result.report())
        return 0
    sweep = runner.run_spec(spec, fresh=args.fresh)
    if not args.quiet:
        print(_closing(sweep, spec.axes, args, time.perf_counter() - started_s))
    print(f"results: {sweep.path}")
    failed = sweep.failed
    if failed:
        print(f"{len(failed)} combo(s) failed; see {sweep.path / MANIFEST}", file=sys.stderr)
        return 1
    return 0


def _closing(sweep, axes: Sequence[str], args: argparse.Namespace, wall_s: float) -> str:
    """The top table, the robustness verdict and the fills note (when there are), then the
    wall time, the counts and where each file is."""
    from research.report import format_top

    manifest = sweep.manifest
    lines = [format_top(sweep.summary, axes, n=args.top, by=args.rank_by), ""]
    analysis = manifest.get("analysis") or {}
    if analysis.get("verdict"):
        lines += [f"robustness: {analysis['verdict']}", ""]
    elif analysis.get("reason"):
        lines += [f"robustness: not analysed ({analysis['reason']})", ""]
    if (manifest.get("fills") or {}).get("note"):
        lines += [f"fills: {manifest['fills']['note']}", ""]
    lines += _data_warnings(manifest.get("data") or {})
    lines.append(f"{sweep.path.name}: {manifest.get('combos_ok', 0)} combos ok, "
                 f"{manifest.get('combos_failed', 0)} failed, in {clock(wall_s)}")
    for what, found in sweep.files().items():
        if what == "manifest":
            continue
        paths = found if isinstance(found, list) else [found]
        for path in paths:
            lines.append(f"  {what:<9} {_shown(path)}")
    return "\n".join(lines)


def _data_warnings(data: dict) -> list[str]:
    """The loader's warnings again at the end (a wrong zone, bad bars, stray sessions): a
    line at the start of a long sweep is easily missed (issue 22)."""
    lines = [f"data warning: {text}" for text in data.get("warnings") or []]
    if data.get("dropped_bars"):
        lines.append(f"data: {data['dropped_bars']} bad bar(s) left out (bad_bars: drop)")
    return [*lines, ""] if lines else []


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
