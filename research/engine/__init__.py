"""The breakout engine: bars -> ranges -> entries -> exits -> rows.

Which file holds which rule (docs/engine.md sections and quirks). Each rule has a
readable Python statement and, where it is hot, a compiled kernel tagged with the same
section; tests hold the two equal on random bars.

=================  =====================================================================
module             holds
=================  =====================================================================
instruments.py     §2 the instrument table: tick, ladder (base target), micro scale
sessions.py        §4 sessions, their start and slot labels; SESSIONS (a code = index)
clock.py           CHICAGO and the wall-clock arithmetic: trading dates, DST, Q8 weekdays
params.py          §3 RunParams, its validation and exact tick arithmetic (Q15, Q18)
range_params.py    your own range: check_range_fields, the R0830-0845 labels
rule_params.py     checks of the entry (§7.5), exit (§7.6) and sizing (§10.4) fields
entry_rules.py     §7.5 EntryRules: stop or close_confirm, the sides allowed
codes.py           the named codes: results (Win ... OPEN), sides, bar outcomes
bars.py            Bars: one instrument's bars as int64 tick arrays (docs/architecture.md)
contract_walk.py   a trade lives on the contract it entered: the bars kept after a roll
                   and each trade's window on its own contract (docs/data-formats.md, rolls)
calendar.py        the CME calendar (cme_calendar.csv): each date's scheduled close and
                   holiday name; calendar: exchange
data.py            §1 loading and validating bar files -> Bars (Q22-Q24)
timestamps.py      timestamps of any zone or text -> UTC ns (Q22/Q23)
inputs.py          to_bars: the one way any input (frame, Bars, path) becomes Bars
synthetic.py       deterministic synthetic minute bars on the CME week
ranges.py          §5-§6 RangeRules (the key of ranges and entries), ranges per
                   (date, session, slot), E and X (Q8, Q21); kernel _session_windows
entry.py           §7 breakout levels, candidate bars, first touch (Q1, Q3, Q30), §7.5
                   entry rules, breakout_touches; kernel _first_breakouts
reentry.py         §7.5 max_entries_per_day: a range's later entries after an exit
execution.py       §7.4-§10 ExitRules (the walk's key), stop distance, T1 / break-even
                   (Q5, Q29), bar outcome, window end and OPEN/TIME (Q6/Q7, Q9/Q20),
                   peak (Q11); execute_trades_for: many ExitRules in one call
walk_kernel.py     §8-§10 the compiled walk of execution.py and fill_bounds.py, jumping
                   blocks of bars where no level is touched; kernel _walk_batch
sizing.py          §10.4 sizing by risk: risk_usd, a compounding risk_fraction
results.py         §12 rows: the typed frame (Q12/Q13 profit scale) and legacy strings
pipeline.py        Pipeline: the stages put together, once, for run_strategy and sweeps
strategy.py        run_strategy, process_single_range (the rules in plain Python)
=================  =====================================================================
"""
