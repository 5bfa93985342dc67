"""``python -m research.cli COMMAND ...``: the commands behind one entry point.

    python -m research.cli sweep sweeps/grid.yaml      # = research-sweep
    python -m research.cli data data/ES.parquet        # = research-data
    python -m research.cli analyze results/grid980     # = research-analyze
    python -m research.cli report results/grid980      # = research-report
    python -m research.cli stats sweeps/study_orb_stats.yaml   # = research-stats

Each runs through research.cli.shell, so the exit codes are the shell's (0, 1, 2, 3, 130,
143). ``python -m research.cli --help`` lists the commands.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {"sweep": ("research.cli.sweep", "run a parameter sweep and store its results"),
            "data": ("research.cli.data_inspector", "show what the loader makes of bar files"),
            "analyze": ("research.cli.analyze", "the robustness of a sweep's winner"),
            "report": ("research.cli.report", "write a sweep's report.html"),
            "stats": ("research.cli.stats", "breakout statistics of a spec's opening ranges")}
USAGE = "usage: python -m research.cli {" + ",".join(COMMANDS) + "} [options]"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``COMMAND``'s main with the arguments after it; returns its exit code.

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     main(["bogus"])
    2
    >>> err.getvalue().splitlines()[-1]
    "error: unknown command 'bogus'; use one of sweep, data, analyze, report, stats"
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(_help())
        return 0
    if not args or args[0] not in COMMANDS:
        given = f"unknown command {args[0]!r}" if args else "no command given"
        print(USAGE, file=sys.stderr)
        print(f"error: {given[:80]}; use one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args[0]][0])
    if argv is None:  # the process is the command: it reads its arguments as its own
        sys.argv[1:] = args[1:]
        return module.main()
    return module.main(args[1:])


def _help() -> str:
    lines = [USAGE, "", "commands:"]
    lines += [f"  {name:<8} {what}" for name, (_, what) in COMMANDS.items()]
    lines += ["", "python -m research.cli COMMAND --help shows a command's options."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
