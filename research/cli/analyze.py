"""Command line: python -m research.cli.analyze RESULTS_DIR [options].

Is a sweep's in-sample winner skill or luck? Runs docs/robustness.md's methods on the folder's
daily matrix, writes robustness.json and combo_stats.parquet there, prints the key numbers
and a plain-words verdict. Exit codes: 0 done, 2 bad input (a damaged, edited or
mistyped results file included), 3 the files could not be written, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from research.analysis.stats import METRICS
from research.errors import ResearchError, SpecError, printable, printable_logging

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
        prog="python -m research.cli.analyze", epilog=EXAMPLES,
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
    printable_logging(logging.INFO if args.verbose else logging.WARNING)
    try:
        return _run(args)
    except ResearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the two files could not be written
        print(f"error: cannot write {printable(str(exc.filename or args.results_dir))}: "
              f"{exc.strerror or exc}; the folder's other files are unchanged", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from research.analysis import AnalysisConfig, analyze, read_inputs
    from research.analysis.folder import COMBO_STATS, ROBUSTNESS, write_outputs
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
    result = analyze(inputs.daily, inputs.params, inputs.axes, config, inputs.n_failed)
    write_outputs(args.results_dir, result, config)
    print(key_numbers(result))
    print(f"wrote {ROBUSTNESS} and {COMBO_STATS} in {args.results_dir}")
    print()
    print(result.verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
