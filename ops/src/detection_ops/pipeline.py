"""`inv ci`: lint -> test -> build -> scan -> plan, the steps GitHub Actions runs, on this machine.

Each step runs nox sessions or ops modules as subprocesses with their output streamed; the first
failure stops the pipeline. Cloud-only steps (a Terraform plan needs AWS credentials) are SKIPPED
with the reason when no credentials are configured - never counted as passed. A summary table
(step, status, duration) closes every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.table import Table

from detection_ops.infra import ENVIRONMENTS
from detection_ops.infra.terraform import credential_source

NEEDS_AWS = "needs AWS credentials"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"


STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.SKIPPED: "yellow",
    Status.NOT_RUN: "dim",
}


@dataclass(frozen=True)
class Step:
    """A named stage: its commands run in order; `needs_aws` marks a cloud-only stage."""

    name: str
    commands: tuple[tuple[str, ...], ...]
    needs_aws: bool = False


@dataclass(frozen=True)
class StepResult:
    name: str
    status: Status
    seconds: float
    detail: str


def default_steps(python: str = sys.executable) -> list[Step]:
    """The pipeline of app.yml and infra.yml, in their order."""
    nox = (python, "-m", "nox")
    return [
        Step("lint", ((*nox, "-s", "lint", "typecheck"),)),
        Step("test", ((*nox, "-s", "tests"),)),
        Step("build", ((python, "-m", "detection_ops.image", "build"),)),
        Step("scan", ((python, "-m", "detection_ops.image", "scan"),)),
        Step(
            "plan",
            tuple(
                (python, "-m", "detection_ops.infra.terraform", "plan", "--env", environment)
                for environment in ENVIRONMENTS
            ),
            needs_aws=True,
        ),
    ]


def has_aws_credentials() -> bool:
    return credential_source(os.environ, Path.home()) is not None


def run_step(step: Step, cwd: Path, console: Console) -> StepResult:
    started = time.monotonic()
    for command in step.commands:
        console.rule(f"[bold]{step.name}[/]: {' '.join(command)}")
        returncode = subprocess.run(command, cwd=cwd, check=False).returncode  # noqa: S603 - our own commands
        if returncode != 0:
            detail = f"`{' '.join(command[-4:])}` exited {returncode}"
            return StepResult(step.name, Status.FAILED, time.monotonic() - started, detail)
    return StepResult(step.name, Status.PASSED, time.monotonic() - started, "")


def run_pipeline(
    steps: Sequence[Step],
    cwd: Path,
    console: Console,
    aws_available: Callable[[], bool] = has_aws_credentials,
) -> list[StepResult]:
    """Run the steps in order; after the first failure the rest are reported as not run."""
    results: list[StepResult] = []
    for step in steps:
        if any(result.status is Status.FAILED for result in results):
            results.append(StepResult(step.name, Status.NOT_RUN, 0.0, "an earlier step failed"))
        elif step.needs_aws and not aws_available():
            results.append(StepResult(step.name, Status.SKIPPED, 0.0, NEEDS_AWS))
        else:
            results.append(run_step(step, cwd, console))
    return results


def summary(results: Sequence[StepResult], console: Console) -> None:
    table = Table(title="inv ci")
    table.add_column("step", style="bold")
    table.add_column("status")
    table.add_column("duration", justify="right")
    table.add_column("detail")
    for result in results:
        status = f"[{STYLE[result.status]}]{result.status.upper()}[/]"
        table.add_row(result.name, status, f"{result.seconds:.1f} s", result.detail)
    console.print(table)
    counts = {status: sum(r.status is status for r in results) for status in Status}
    console.print(", ".join(f"{count} {status}" for status, count in counts.items() if count))


def main(
    steps: Sequence[Step] | None = None, cwd: Path | None = None, console: Console | None = None
) -> int:
    """Run the pipeline; 0 when no step failed (skipped cloud steps do not pass, nor fail)."""
    console = console or Console()
    results = run_pipeline(default_steps() if steps is None else steps, cwd or Path.cwd(), console)
    summary(results, console)
    return 1 if any(result.status is Status.FAILED for result in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
