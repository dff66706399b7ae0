"""`inv ci`: steps run in order as real subprocesses, the first failure stops the rest, cloud-only
steps without credentials are skipped (never passed), and a summary table closes every run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from rich.console import Console

from detection_ops import pipeline
from detection_ops.pipeline import NEEDS_AWS, Status, Step, default_steps, main, run_pipeline


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def touch(path: Path) -> tuple[str, ...]:
    return python(f"import pathlib; pathlib.Path({str(path)!r}).touch()")


@pytest.fixture
def console() -> Console:
    return Console(width=120, record=True)


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential variables and an empty home: the SDK would find no credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_SHARED_CREDENTIALS_FILE",
                 "AWS_CONFIG_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_every_step_passes(tmp_path: Path, console: Console) -> None:
    steps = [Step("lint", (touch(tmp_path / "lint"),)), Step("test", (touch(tmp_path / "test"),))]
    assert main(steps, cwd=tmp_path, console=console) == 0
    assert (tmp_path / "lint").exists()
    assert (tmp_path / "test").exists()
    summary = console.export_text()
    assert "lint" in summary
    assert summary.count("PASSED") == 2
    assert "2 passed" in summary


def test_the_first_failure_stops_the_pipeline(tmp_path: Path, console: Console) -> None:
    steps = [
        Step("lint", (python("pass"),)),
        Step("test", (python("import sys; sys.exit(3)"),)),
        Step("build", (touch(tmp_path / "built"),)),
    ]
    assert main(steps, cwd=tmp_path, console=console) == 1
    assert not (tmp_path / "built").exists()
    summary = console.export_text()
    assert "FAILED" in summary
    assert "exited 3" in summary
    assert "NOT RUN" in summary
    assert "1 passed, 1 failed, 1 not run" in summary


def test_a_step_stops_at_its_first_failing_command(tmp_path: Path, console: Console) -> None:
    step = Step(
        "scan", (touch(tmp_path / "one"), python("raise SystemExit(2)"), touch(tmp_path / "three"))
    )
    (result,) = run_pipeline([step], tmp_path, console)
    assert result.status is Status.FAILED
    assert (tmp_path / "one").exists()
    assert not (tmp_path / "three").exists()


@pytest.mark.usefixtures("no_aws")
def test_cloud_step_without_credentials_is_skipped_never_passed(
    tmp_path: Path, console: Console
) -> None:
    steps = [
        Step("lint", (python("pass"),)),
        Step("plan", (touch(tmp_path / "planned"),), needs_aws=True),
    ]
    assert main(steps, cwd=tmp_path, console=console) == 0
    assert not (tmp_path / "planned").exists()
    summary = console.export_text()
    assert NEEDS_AWS in summary
    assert "SKIPPED" in summary
    assert "1 passed, 1 skipped" in summary


def test_cloud_step_runs_when_credentials_exist(tmp_path: Path, console: Console) -> None:
    step = Step("plan", (touch(tmp_path / "planned"),), needs_aws=True)
    (result,) = run_pipeline([step], tmp_path, console, aws_available=lambda: True)
    assert result.status is Status.PASSED
    assert (tmp_path / "planned").exists()


def test_credentials_are_looked_up_where_the_sdk_looks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_aws: None
) -> None:
    assert not pipeline.has_aws_credentials()
    monkeypatch.setenv("AWS_PROFILE", "ci")
    assert pipeline.has_aws_credentials()


def test_the_real_pipeline_is_lint_test_build_scan_plan() -> None:
    steps = default_steps()
    assert [step.name for step in steps] == ["lint", "test", "build", "scan", "plan"]
    assert [step.name for step in steps if step.needs_aws] == ["plan"]
    assert len(steps[-1].commands) == 3  # dev, staging, production
    for step in steps:
        for command in step.commands:
            assert command[1] == "-m"
            assert importlib.util.find_spec(command[2]) is not None, command
