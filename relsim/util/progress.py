"""Progress bars for long work: a live bar in a terminal, plain lines in logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(total: int, label: str, unit: str = "runs", enabled: bool = True,
                 completed: int = 0) -> Iterator[Callable[..., None]]:
    """Yield ``advance(failed=False)``; show done/total, failures, elapsed and time left.

    Parameters
    ----------
    total : int
        Units of work in all.
    label : str
        What is being done.
    unit : str
        Name of a unit ("runs", "steps").
    enabled : bool
        False gives a silent ``advance``.
    completed : int
        Units already done before this call (a resumed sweep): they fill the
        bar but the estimate of time left comes from this call's units only.

    Notes
    -----
    In a terminal this is a rich bar on stderr. When stderr is not a terminal
    (CI logs, pipes) a plain line is printed about every tenth of the work, so
    a long job never looks stuck.
    """
    todo = total - completed
    if not enabled or todo <= 0:
        yield lambda failed=False: None
        return
    failures = 0
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                       TextColumn(f"{unit}" + ", {task.fields[failures]} failed" if unit == "runs" else unit),
                       TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                       console=Console(stderr=True))
        with bar:
            task = bar.add_task(label, total=total, completed=completed, failures=0)

            def advance_bar(failed: bool = False) -> None:
                nonlocal failures
                failures += failed
                bar.update(task, advance=1, failures=failures)

            yield advance_bar
        return
    started = time.monotonic()
    done = 0
    every = max(1, todo // 10)

    def advance_lines(failed: bool = False) -> None:
        nonlocal done, failures
        done += 1
        failures += failed
        if done % every == 0 or done == todo:
            elapsed = time.monotonic() - started
            left = elapsed / done * (todo - done)
            failed_text = f", {failures} failed" if unit == "runs" else ""
            print(f"{label}: {completed + done}/{total} {unit}{failed_text}, {elapsed:.0f} s elapsed, "
                  f"about {left:.0f} s left", file=sys.stderr, flush=True)

    yield advance_lines
