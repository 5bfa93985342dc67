"""Vendor bar formats (docs/data-formats.md): one small module per layout, detection, contracts.

`loader.load_parts` is the one entry point (through `research.engine.data.load_bars`, and
`bars_from_files` for a sweep): it finds the files, detects or takes each one's format, reads
it with that format's module into the loader's column names, and converts, checks and rolls
every format the same way. `options.LoadOptions` holds the load keys, checked once.
"""

from research.engine.formats.base import FORMAT_NAMES, FORMATS, STAMPS, VendorFormat
from research.engine.formats.rolls import ROLL_RULES

__all__ = ["FORMATS", "FORMAT_NAMES", "ROLL_RULES", "STAMPS", "VendorFormat"]
