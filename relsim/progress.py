"""Progress bars for long work: a live bar in a terminal, plain lines in logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(total: int, label: str, unit: str = "runs",
                 enabled: bool = True) -> Iterator[Callable[[], None]]:
    """Yield ``advance()``; show done/total, elapsed and estimated time left.

    In a terminal this is a rich progress bar. When stderr is not a terminal
    (CI logs, pipes) it prints a plain line about every tenth of the work, so a
    long job never looks stuck.
    """
    if not enabled or total <= 0:
        yield lambda: None
        return
    if sys.stderr.isatty():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                       TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
        with bar:
            task = bar.add_task(label, total=total)
            yield lambda: bar.advance(task)
        return
    started = time.monotonic()
    done = 0
    every = max(1, total // 10)

    def advance() -> None:
        nonlocal done
        done += 1
        if done % every == 0 or done == total:
            elapsed = time.monotonic() - started
            left = elapsed / done * (total - done)
            print(f"{label}: {done}/{total} {unit}, {elapsed:.0f} s elapsed, about {left:.0f} s left",
                  file=sys.stderr, flush=True)

    yield advance
