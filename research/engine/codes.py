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

# Why a trade's outcome is not decided by its minute bars (issue "Fills as bounds"): the
# first bar that allowed more than one outcome was its entry bar (part of it may predate the
# entry, Q4), or a later bar touching two levels (stop and target, or T1 and the break-even
# stop, Q5); or only a fill beyond a level on a gap (Q3) separates the bounds.
AMBIG_NONE, AMBIG_ENTRY_BAR, AMBIG_BOTH_LEVELS, AMBIG_GAP = range(4)
AMBIGUITY_NAMES = ("", "entry bar", "both levels", "gap")

# How a row's result was decided: by the minute-bar rules (the reference's), by a replay of
# its undecided minutes on 1-second bars, or still undecided after that replay (both levels
# inside one second, or a gap fill that seconds cannot tell).
DECIDED_BY_MINUTES, DECIDED_BY_SECONDS, UNDECIDED = range(3)
DECIDED_NAMES = ("minute bars", "1-second bars", "undecided")

# Entry rule of a range (docs/engine.md §7.5): a stop one tick beyond the range (the
# reference's), or a bar closing beyond it with the entry at the next bar's open.
ENTRY_STOP, ENTRY_CLOSE_CONFIRM = range(2)

# Why a row is NoTrade besides "no breakout" (docs/engine.md §10.4): sizing by risk gave 0
# contracts, the stop being wider than the risk, or the compounding equity being spent.
REASON_NONE, REASON_STOP_TOO_WIDE, REASON_NO_EQUITY = range(3)
REASON_NAMES = ("", "stop wider than the risk", "no equity left")
