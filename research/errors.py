"""One family of errors a user can act on; the CLI prints them without a traceback."""


class ResearchError(Exception):
    """Base of every error this package raises for bad input: catch it to report a user's
    mistake in one line (the CLI does, and exits 2).

    >>> from research import RunParams
    >>> try:
    ...     RunParams(instrument="XX")
    ... except ResearchError as exc:
    ...     print(f"{type(exc).__name__}: {exc}")  # doctest: +ELLIPSIS
    ParamsError: instrument: 'XX' is not one of ES, NQ, YM, CL, NG, GC, RTY, MES, ...
    """


class DataError(ResearchError, ValueError):
    """Bad bar data: names the file, column, first offending rows and their count.

    >>> from research import load_bars
    >>> load_bars("missing.csv")
    Traceback (most recent call last):
    research.errors.DataError: missing.csv: no such file or folder
    """


class ParamsError(ResearchError, ValueError):
    """A RunParams field outside its allowed values.

    >>> from research import RunParams
    >>> RunParams(instrument="ES", target=10.1)
    Traceback (most recent call last):
    research.errors.ParamsError: target: 10.1 is not a multiple of the ES tick (0.25)
    """


class SpecError(ResearchError, ValueError):
    """A sweep spec mistake, found before any work starts.

    >>> from research.grid import spec_from_dict
    >>> spec_from_dict({"name": "x", "bogus": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    research.errors.SpecError: spec: unknown key(s) ['bogus']; allowed: name, data, base, ...
    """


class InputTypeError(ResearchError, TypeError):
    """An argument of the wrong type (a path where a frame was expected, text for a number)."""
