"""How many CPUs a run may use, and how to split them between processes and threads.

One budget caps the whole run so that the outer layer (joblib worker processes) and the
inner layer (threads inside each worker) together never oversubscribe the machine.
"""

from __future__ import annotations

from joblib import cpu_count

MAX_DEFAULT_CPUS = 8
"""The automatic budget never exceeds this; a user may ask for more explicitly."""

AUTO = "auto"


def usable_cores() -> int:
    """Logical cores this process may run on.

    joblib (loky) honours CPU affinity and the cgroup CPU quota, unlike ``os.cpu_count()``,
    which reports every core of the host even inside a limited container.
    """
    return max(1, int(cpu_count(only_physical_cores=False)))


def cpu_budget(cores: int | None = None) -> int:
    """Three quarters of the usable cores, at least 1 and at most ``MAX_DEFAULT_CPUS``.

    Leaving a quarter free keeps the machine responsive and leaves room for I/O.

    >>> [cpu_budget(n) for n in (1, 2, 3, 4, 8, 11, 16, 64)]
    [1, 1, 2, 3, 6, 8, 8, 8]
    """
    if cores is None:
        cores = usable_cores()
    return max(1, min(MAX_DEFAULT_CPUS, (3 * int(cores)) // 4))


def resolve_budget(max_cpus: int | str | None) -> int:
    """The budget a user asked for (argument, YAML ``parallel.max_cpus`` or ``--max-cpus``).

    None or "auto" gives ``cpu_budget()``; a positive integer (or its decimal string, as a
    CLI or YAML may hand over) is taken as is, even above ``MAX_DEFAULT_CPUS``.

    >>> resolve_budget(12)
    12
    """
    if max_cpus is None:
        return cpu_budget()
    if isinstance(max_cpus, str):
        text = max_cpus.strip().lower()
        if text == AUTO:
            return cpu_budget()
        if text.isascii() and text.isdigit() and int(text) > 0:
            return int(text)
    elif isinstance(max_cpus, int) and not isinstance(max_cpus, bool) and max_cpus > 0:
        return max_cpus
    raise ValueError(f"max_cpus must be a positive integer or 'auto', got {max_cpus!r}")


def split_budget(budget: int, n_tasks: int) -> tuple[int, int]:
    """(processes, threads) with processes x threads <= budget (at least 1 each).

    Processes come first because tasks share nothing and scale best across processes;
    threads only take up what processes cannot use: many tasks get one thread per
    process, a single task gets every thread.

    >>> split_budget(8, 100), split_budget(8, 1), split_budget(8, 3)
    ((8, 1), (1, 8), (3, 2))
    """
    processes = max(1, min(budget, n_tasks))
    threads = max(1, budget // processes)
    return processes, threads
