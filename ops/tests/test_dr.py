"""DR report arithmetic and verdicts, and the whole drill (`inv dr-drill`) end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detection_ops.backup.__main__ import main
from detection_ops.backup.report import DrReport
from detection_ops.deploy.steps import StepTiming

T0 = datetime(2026, 12, 3, 12, tzinfo=UTC)


def report(rto: timedelta, rpo: timedelta, *, ok: bool = True) -> DrReport:
    return DrReport(
        environment="test",
        backup_id="b1",
        backup_created_at=T0 - rpo,
        started_at=T0,
        ready_at=T0 + rto,
        phases=[StepTiming("restore postgresql", 1.5, ok=ok)],
    )


def test_targets_met():
    passed = report(timedelta(minutes=29), timedelta(minutes=59))
    assert (passed.rto_seconds, passed.rpo_seconds) == (29 * 60, 59 * 60)
    assert passed.passed
    assert "**PASS**" in passed.to_markdown()


@pytest.mark.parametrize(
    ("rto", "rpo", "missed"),
    [
        (timedelta(minutes=30), timedelta(minutes=1), "RTO 1800 s >= target 1800 s"),
        (timedelta(minutes=1), timedelta(hours=1), "RPO 3600 s >= target 3600 s"),
    ],
)
def test_a_missed_target_fails_the_report(rto, rpo, missed):
    failed = report(rto, rpo)
    assert failed.misses == [missed]
    assert f"FAIL: {missed}" in failed.to_markdown()


def test_a_failed_phase_fails_the_report():
    assert report(timedelta(seconds=5), timedelta(seconds=5), ok=False).misses == ["a phase failed"]


def test_report_files(tmp_path):
    json_path, markdown_path = report(timedelta(seconds=90), timedelta(minutes=10)).write(tmp_path)
    data = json.loads(json_path.read_text())
    assert (data["rto_seconds"], data["rpo_seconds"], data["passed"]) == (90, 600, True)
    assert data["phases"] == [{"name": "restore postgresql", "seconds": 1.5, "ok": True}]
    assert "| restore postgresql | 1.50 | ok |" in markdown_path.read_text()


@pytest.mark.slow
def test_drill_backs_up_destroys_restores_and_reports(require_tool, tmp_path, capsys, monkeypatch):
    require_tool("moto_server")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert main(["dr-drill", "--detections", "3", "--reports", str(tmp_path)]) == 0
    [json_path] = tmp_path.glob("dr-local-drill-*.json")
    data = json.loads(json_path.read_text())
    assert data["passed"] is True
    assert 0 < data["rto_seconds"] < 30 * 60
    assert 0 < data["rpo_seconds"] < 60 * 60
    names = [phase["name"] for phase in data["phases"]]
    assert names == [
        "download and verify checksums",
        "restore postgresql",
        "restore sqlite queue",
        "run migrations",
        "bring the service up and wait for /readyz",
        "check row counts against the manifest",
    ]
    log = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert {"step.start", "step.done", "backup.stored", "drill.report"} <= {e["event"] for e in log}


def test_backup_without_configuration_says_what_to_set(capsys, monkeypatch):
    monkeypatch.delenv("DETECTION_OPS_BACKUP_BUCKET", raising=False)
    assert main(["backup", "--env", "dev"]) == 1
    failure = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert failure["event"] == "operation.failed"
    assert "terraform output" in failure["next_step"]
