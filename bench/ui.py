"""Progress bars (rich) for a run: one bar for the whole run, one for the current step,
both with elapsed time and an estimate of what is left."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class UI:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._overall: TaskID | None = None

    def __enter__(self) -> "UI":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def overall(self, steps: int) -> None:
        """The run's bar: `steps` is the number of `step`s the run will take."""
        self._overall = self.progress.add_task("[bold]bench", total=steps)

    @contextmanager
    def step(self, description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
        """A bar for one step; yields `advance(n=1)`. The run's bar moves on at the end."""
        task = self.progress.add_task(description, total=total)
        try:
            yield lambda n=1: self.progress.advance(task, n)
        finally:
            self.progress.remove_task(task)
            if self._overall is not None:
                self.progress.advance(self._overall)
        self.log(f"[green]done[/] {description}")

    def log(self, *objects: Any) -> None:
        self.progress.console.print(*objects)
