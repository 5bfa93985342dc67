"""Sessions and slots (docs/engine.md §4): range start and slot end labels, Chicago wall time."""

from __future__ import annotations

SESSION_START: dict[str, str] = {"S1": "02:00", "S2": "08:00"}
SESSION_SLOTS: dict[str, tuple[str, ...]] = {
    "S1": ("07:30", "08:00", "09:00"),
    "S2": ("09:30", "10:00", "10:30", "11:00"),
}
SESSIONS: tuple[str, ...] = tuple(SESSION_SLOTS)  # a session's code is its index here
ALL_SLOTS: tuple[str, ...] = tuple(s for slots in SESSION_SLOTS.values() for s in slots)
SLOT_AXIS = "slot"  # a sweep axis of slot labels: each sets its session and that one slot
WEEKDAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")


def minute_of_day(hhmm: str) -> int:
    """'07:30' -> 450. Raises ValueError for anything that is not a valid HH:MM."""
    hours, sep, minutes = hhmm.partition(":")
    well_formed = len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()
    if not (sep and well_formed):
        raise ValueError(f"not an HH:MM time: {hhmm!r}")
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError(f"not an HH:MM time: {hhmm!r}")
    return h * 60 + m


def session_of_slot(slot: str) -> str:
    """The session a slot label belongs to; KeyError if none."""
    for session, slots in SESSION_SLOTS.items():
        if slot in slots:
            return session
    raise KeyError(slot)
