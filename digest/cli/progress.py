"""A progress bar with the send rate, on a terminal only."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from digest.dispatch import SendOutcome


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:.1f} digests/s")


@contextmanager
def send_progress(total: int) -> Iterator[Callable[[SendOutcome], None] | None]:
    """Yields a callback for each outcome, or None when output is not a terminal."""
    if not sys.stdout.isatty() or total == 0:
        yield None
        return
    columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn(), RateColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("", total=total)

        def advance(outcome: SendOutcome) -> None:
            bar.update(task, advance=1)

        yield advance
