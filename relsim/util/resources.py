"""What the machine can give a piece of work: memory available now, and the checks
that refuse, or warn about, work that would not fit or would take long.

Estimates are made *before* anything large is allocated (see
:mod:`relsim.market.resources` for runs, sweeps and comparisons). Work that
cannot fit in the memory available is refused with :class:`ResourceError`
(exit 2); ``--yes`` skips the refusal. Work estimated to take longer than
:data:`WARN_SECONDS` is announced on stderr with the estimate.

>>> human_bytes(3 * 1024 ** 3), human_seconds(4000)
('3.0 GiB', '67 min')
"""

from __future__ import annotations

import os
import sys

from relsim.util.errors import RelsimError

#: Work estimated to take longer than this is announced on stderr.
WARN_SECONDS = 60.0
#: Share of the available memory a piece of work may plan to use.
MEMORY_SHARE = 0.8


class ResourceError(RelsimError):
    """The work would not fit in this machine's memory (exit 2; ``--yes`` skips the check)."""


def available_memory() -> int | None:
    """Bytes of memory available now: ``MemAvailable`` of ``/proc/meminfo``, else
    free pages × page size from ``os.sysconf``; None if neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def human_bytes(count: float) -> str:
    """``count`` bytes in B, KiB, MiB, GiB or TiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def human_seconds(seconds: float) -> str:
    """``seconds`` in s, min, h or days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def check_fits(what: str, memory: float, seconds: float, yes: bool = False,
               available: float | None = None, room: str = "this machine has available",
               workers: str = "fewer workers") -> None:
    """Refuse ``what`` if ``memory`` bytes exceed :data:`MEMORY_SHARE` of the memory
    ``available`` (default: this machine's, now), unless ``yes``; warn on stderr if
    ``seconds`` exceed :data:`WARN_SECONDS`. ``room`` names what ``available`` is and
    ``workers`` how to run fewer at once, in the message.

    Raises
    ------
    ResourceError
        With the estimate, the memory available and how to shrink the work.
    """
    available = available_memory() if available is None else available
    if available is not None and memory > MEMORY_SHARE * available and not yes:
        raise ResourceError(
            f"{what} needs about {human_bytes(memory)} of memory, more than {room} "
            f"({human_bytes(available)}); use fewer customers (--customers), a smaller network "
            f"(market.network.mean_degree), {workers}, or --yes to try anyway")
    if seconds > WARN_SECONDS:
        print(f"relsim: note: {what} will take about {human_seconds(seconds)} (estimate) and about "
              f"{human_bytes(memory)} of memory", file=sys.stderr, flush=True)
