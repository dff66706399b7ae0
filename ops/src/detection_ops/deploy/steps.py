"""Named operator steps: one JSON log line per start, finish and failure, a live status line,
and the measured duration of every step (the DR report's time per phase comes from here)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console

# Progress bars go to stderr with the status lines; stdout carries the JSON log.
PROGRESS_CONSOLE = Console(stderr=True)


class OperatorError(Exception):
    """A failure an operator can act on: what went wrong and what to do next."""

    def __init__(self, problem: str, next_step: str) -> None:
        super().__init__(f"{problem}. Next: {next_step}")
        self.problem = problem
        self.next_step = next_step


@dataclass(frozen=True)
class StepTiming:
    name: str
    seconds: float
    ok: bool


@dataclass
class Steps:
    """Runs and records the steps of one operation (`run` names it in every log line)."""

    run: str
    console: Console = field(default_factory=lambda: Console(stderr=True))
    log: TextIO = field(default_factory=lambda: sys.stdout)
    timings: list[StepTiming] = field(default_factory=list)

    def event(self, event: str, **fields: Any) -> None:
        record = {"ts": datetime.now(UTC).isoformat(), "run": self.run, "event": event, **fields}
        self.log.write(json.dumps(record, default=str, sort_keys=False) + "\n")
        self.log.flush()

    @contextmanager
    def step(self, name: str, **fields: Any) -> Iterator[None]:
        self.event("step.start", step=name, **fields)
        started = time.monotonic()
        try:
            with self.console.status(f"[bold]{name}[/]"):
                yield
        except BaseException as error:
            seconds = time.monotonic() - started
            self.timings.append(StepTiming(name, seconds, ok=False))
            self.event("step.failed", step=name, seconds=round(seconds, 3), error=str(error))
            raise
        seconds = time.monotonic() - started
        self.timings.append(StepTiming(name, seconds, ok=True))
        self.event("step.done", step=name, seconds=round(seconds, 3))
        self.console.print(f"[green]✓[/] {name} [dim]({seconds:.1f} s)[/]")

    def seconds(self, *names: str) -> float:
        """Total measured seconds of the named steps (all steps when no name is given)."""
        wanted = set(names)
        return sum(t.seconds for t in self.timings if not wanted or t.name in wanted)


def fail(steps: Steps, error: OperatorError) -> int:
    """Report an operator error (log line and console) and return the exit code 1."""
    steps.event("operation.failed", problem=error.problem, next_step=error.next_step)
    steps.console.print(f"[red]✗ {error.problem}[/]\n[yellow]next:[/] {error.next_step}")
    return 1
