"""Command line: python -m research.cli.analyze RESULTS_DIR [options] (or research-analyze).

Is a sweep's in-sample winner skill or luck? Runs docs/robustness.md's methods on the folder's
daily matrix, writes robustness.json and combo_stats.parquet there, prints the key numbers
and a plain-words verdict. The folder's report.html, if there is one, is rebuilt to show
the new analysis; if that fails, one line says the report is stale and which command
rebuilds it. Exit codes (research.cli.shell): 0 done, 2 bad input (a damaged, edited or
mistyped results file included), 3 a file could not be written, 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from research.analysis.folder import ROBUSTNESS
from research.analysis.stats import METRICS
from research.cli import shell
from research.errors import ResearchError, SpecError, shorten

EXAMPLES = """examples:
  python -m research.cli.analyze results/grid980
  python -m research.cli.analyze results/grid980 --train 63 --test 21 --anchored
  python -m research.cli.analyze results/grid980 --metric net_usd --blocks 10 --seed 7

Without options the settings are the sweep spec's analysis: section (if any), else the
defaults: --train 126 --test 21 --step = test, rolling, --metric sharpe, --blocks 16,
--seed 0."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command's options (``--help`` lists them, with examples).

    >>> parse_args(["results/demo", "--train", "63"]).train
    63
    """
    parser = argparse.ArgumentParser(
        prog=shell.prog("analyze"), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Robustness of a sweep's winner (walk-forward, PBO, deflated Sharpe, "
                    "SPA, intervals, plateaus) from its results folder.")
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="a sweep's results folder, e.g. results/grid980")
    parser.add_argument("--train", type=int, help="walk-forward training window, trading dates")
    parser.add_argument("--test", type=int, help="walk-forward test window, trading dates")
    parser.add_argument("--step", type=int, help="dates between folds (default: --test)")
    parser.add_argument("--anchored", action="store_true", default=None,
                        help="training windows start at the first date (default: rolling)")
    parser.add_argument("--metric", choices=tuple(METRICS), help="how combos are ranked")
    parser.add_argument("--blocks", type=int, help="CSCV blocks S (even)")
    parser.add_argument("--seed", type=int, help="bootstrap seed (SPA and intervals)")
    parser.add_argument("--bootstrap-reps", type=int,
                        help="bootstrap replications (default 1000)")
    parser.add_argument("--block-length", type=int,
                        help="bootstrap mean block length in dates (default: from the data)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the error line goes to stderr).

    >>> main(["no/such/folder"])
    2
    """
    args = parse_args(argv)
    return shell.run(lambda: _run(args), verbose=args.verbose,
                     command_line=argv is None)


def _run(args: argparse.Namespace) -> int:
    from research.analysis import AnalysisConfig, analyze, read_inputs
    from research.analysis.folder import COMBO_STATS, write_outputs
    from research.analysis.verdict import key_numbers

    inputs = read_inputs(args.results_dir)
    given = {name: getattr(args, name) for name in ("train", "test", "step", "anchored",
                                                    "metric", "blocks", "seed",
                                                    "bootstrap_reps", "block_length")
             if getattr(args, name) is not None}
    try:
        config = AnalysisConfig.from_mapping({**inputs.config.to_dict(), **given}, where="")
    except SpecError as exc:  # "train: ..." -> "--train: ..."
        key = str(exc).partition(":")[0]
        raise SpecError(f"--{key.replace('_', '-')}{str(exc)[len(key):]}") from None
    result = analyze(inputs.daily, inputs.params, inputs.axes, config, inputs.n_failed,
                     notes=inputs.notes)
    with shell.writing(Path(args.results_dir) / ROBUSTNESS):
        write_outputs(args.results_dir, result, config)
    print(key_numbers(result))
    print(f"wrote {ROBUSTNESS} and {COMBO_STATS} in {args.results_dir}")
    rebuild_report(Path(args.results_dir))
    print()
    print(result.verdict)
    return 0


def rebuild_report(folder: Path) -> Path | None:
    """Rewrite `folder`'s report.html, if it has one, so that it shows the analysis just
    written; returns its path. A report that cannot be rebuilt leaves the analysis done:
    one line on stderr says it is stale and names the command that rebuilds it.

    >>> import tempfile
    >>> rebuild_report(Path(tempfile.mkdtemp())) is None  # no report: nothing to rebuild
    True
    """
    from research.report import write_report
    from research.results.store import REPORT

    if not (folder / REPORT).exists():
        return None
    try:
        path = write_report(folder)
    except Exception as exc:  # noqa: BLE001 - the analysis is written; the page is extra
        why = (exc.strerror if isinstance(exc, OSError) and exc.strerror
               else str(exc) if isinstance(exc, ResearchError)  # bounded where it is made
               else shorten(str(exc)))
        print(f"warning: {folder / REPORT} is stale: it predates {ROBUSTNESS} and could not "
              f"be rebuilt ({type(exc).__name__}: {why}); rebuild it with: "
              f"python -m research.report {folder}", file=sys.stderr)
        return None
    print(f"report: {path}")
    return path


if __name__ == "__main__":
    sys.exit(main())
