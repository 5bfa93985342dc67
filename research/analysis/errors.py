"""The analysis' one error: inputs it cannot analyse, said in words a user can act on."""

from __future__ import annotations

from research.errors import ResearchError


class AnalysisError(ResearchError, ValueError):
    """Inputs the robustness analysis cannot work on: a results folder without its daily
    matrix, fewer than two combos, too few trading dates, a matrix and parameter table that
    do not match. Data merely too short for one method is not an error: that method's
    section is skipped with its reason (see ``research.analysis``).

    >>> raise AnalysisError("needs at least 2 combos, got 1")
    Traceback (most recent call last):
    ...
    research.analysis.errors.AnalysisError: needs at least 2 combos, got 1
    """
