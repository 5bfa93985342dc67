"""One family of errors a user can act on; the CLI prints them without a traceback."""


class ResearchError(Exception):
    """Base of every error this package raises for bad input."""


class DataError(ResearchError, ValueError):
    """Bad bar data: names the file, column, first offending rows and their count."""


class ParamsError(ResearchError, ValueError):
    """A RunParams field outside its allowed values."""


class SpecError(ResearchError, ValueError):
    """A sweep spec mistake, found before any work starts."""


class InputTypeError(ResearchError, TypeError):
    """An argument of the wrong type (a path where a frame was expected, text for a number)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout`, docker and batch schedulers send), handled like Ctrl-C:
    finished combos are kept and the manifest says "interrupted"."""
