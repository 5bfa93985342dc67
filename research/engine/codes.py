"""The engine's codes, named once (like vectorbt's ``enums.py``): kernels use these names.

Numba reads module-level integers as compile-time constants, so the compiled kernels and
the readable path share the very same names and values.

>>> RESULT_NAMES[WIN], SIDE_NAMES[SHORT]
('Win', 'Short')
"""

from __future__ import annotations

# Result of a range (docs/engine.md §9, Q6-Q9); a code is its index in RESULT_NAMES.
NO_TRADE, WIN, BE, LOSS, TIME, OPEN = range(6)
RESULT_NAMES = ("NoTrade", "Win", "BE", "Loss", "TIME", "OPEN")

# Side of a trade (docs/engine.md §7.3); NO_ENTRY for a range that never broke out.
LONG, SHORT, NO_ENTRY = 1, -1, 0
SIDE_NAMES = {LONG: "Long", SHORT: "Short", NO_ENTRY: ""}

# Outcome of one bar of the walk (docs/engine.md §9.1 step 4).
BAR_NONE, BAR_TARGET, BAR_STOP = 0, 1, 2
