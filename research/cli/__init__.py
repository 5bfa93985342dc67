"""The command line: sweep, data inspector, analyze, report, stats, each through one shell.

``python -m research.cli COMMAND ...`` or the console scripts ``research-sweep``,
``research-data``, ``research-analyze``, ``research-report`` and ``research-stats``.
"""
