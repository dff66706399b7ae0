"""`inv tools`: install the selected tools idempotently, one process at a time, with progress."""

from __future__ import annotations

import enum
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from detection_ops.tools.installers import INSTALLERS, Session, ToolError
from detection_ops.tools.specs import Layout, Tool


class Status(enum.StrEnum):
    PRESENT = "already installed"
    INSTALLED = "installed"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    tool: Tool
    status: Status
    version: str = ""
    seconds: float = 0.0
    error: ToolError | None = None


@contextmanager
def exclusive(lock_path: Path, console: Console) -> Iterator[None]:
    """Hold the tools folder's lock, so two `inv tools` never write the same files at once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            console.print(f"waiting for another `inv tools` (lock {lock_path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def link(target: Path, name: str, bin_dir: Path) -> None:
    """Point `.tools/bin/<name>` at `target`, replacing any old link atomically.

    Targets inside the tools folder are linked relatively, so the folder can move as a whole.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    if target.is_relative_to(bin_dir.parent):
        target = Path(os.path.relpath(target, bin_dir))
    final = bin_dir / name
    if final.is_symlink() and final.readlink() == target:
        return
    temporary = bin_dir / f".{name}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    temporary.replace(final)


def is_current(tool: Tool, installed: str | None) -> bool:
    """Installed at the pinned version (any version for Debian packages, pinned by the release)."""
    return installed is not None and (not tool.version or installed == tool.version)


def ensure(tool: Tool, session: Session) -> Outcome:
    """Install one tool unless it is already current, then link its executables."""
    installer = INSTALLERS[tool.kind]
    started = time.monotonic()
    try:
        installed = installer.installed_version(tool, session)
        status = Status.PRESENT
        if not is_current(tool, installed):
            installer.install(tool, session)
            installed = installer.installed_version(tool, session)
            status = Status.INSTALLED
            if not is_current(tool, installed):
                raise ToolError(
                    f"after installing, {tool.name} reports version {installed!r}",
                    f"delete {session.layout.home(tool)} and run `uv run inv tools` again",
                )
        for exe in tool.bins:
            target = installer.executable(tool, session, exe)
            if target is None:
                raise ToolError(
                    f"{tool.name} is installed but has no `{exe}` executable",
                    f"delete {session.layout.home(tool)} and run `uv run inv tools` again",
                )
            link(target, exe, session.layout.bin)
    except ToolError as error:
        return Outcome(tool, Status.FAILED, seconds=time.monotonic() - started, error=error)
    return Outcome(tool, status, installed or "", time.monotonic() - started)


def install(tools: tuple[Tool, ...], layout: Layout, console: Console) -> list[Outcome]:
    """Install `tools` in order, reporting each; every tool is attempted even after a failure."""
    session = Session(layout)
    outcomes: list[Outcome] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with (
        exclusive(layout.lock, console),
        Progress(*columns, console=console, transient=True) as bar,
    ):
        overall = bar.add_task("tools", total=len(tools))
        for tool in tools:
            bar.update(overall, description=f"{tool.label} ({tool.kind})")
            outcome = ensure(tool, session)
            report(outcome, console)
            outcomes.append(outcome)
            bar.advance(overall)
    return outcomes


def report(outcome: Outcome, console: Console) -> None:
    tool, seconds = outcome.tool, f"{outcome.seconds:.1f} s"
    executables = ", ".join(tool.bins)
    if outcome.error is None:
        mark = "[green]✓[/]" if outcome.status is Status.INSTALLED else "[dim]·[/]"
        done = f"{tool.name} {outcome.version} {outcome.status}"
        console.print(f"{mark} {done} ({executables}) [dim]{seconds}[/]")
        return
    console.print(f"[red]✗ {tool.label} failed[/] ({executables}) [dim]{seconds}[/]")
    console.print(f"  [red]{escape(outcome.error.reason)}[/]", highlight=False)
    console.print(f"  [yellow]next:[/] {escape(outcome.error.hint)}", highlight=False)
