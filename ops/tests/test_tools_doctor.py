"""`inv doctor`: finds tools, reads their versions, reports credentials without secrets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from detection_ops.tools.doctor import aws_credentials, executable_probe
from detection_ops.tools.specs import TOOLS, Layout

REPO_ROOT = Path(__file__).resolve().parents[2]
AWS_VARIABLES = (
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ACCESS_KEY_ID", "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
)  # fmt: skip


def test_probe_finds_a_tool_in_the_tools_bin_and_reads_its_version(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.bin.mkdir()
    script = layout.bin / "sometool"
    script.write_text("#!/bin/sh\necho 'sometool version v3.14.15 (build abc)'\n")
    script.chmod(0o755)
    finding = executable_probe("sometool", "uv run inv tools", layout)()
    assert (finding.found, finding.version, finding.where) == (True, "3.14.15", str(script))


def test_probe_reports_a_missing_tool_with_its_install_hint(tmp_path: Path) -> None:
    finding = executable_probe("no-such-tool-here", "apt-get install it", Layout(tmp_path))()
    assert (finding.found, finding.version, finding.hint) == (False, "", "apt-get install it")


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for variable in AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_aws_credentials_missing_says_how_to_get_them(no_aws: Path) -> None:
    finding = aws_credentials()
    assert not finding.found
    assert "OIDC" in finding.hint


def test_aws_credentials_name_their_source_never_the_secret(
    no_aws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLESECRET")
    finding = aws_credentials()
    assert finding.found
    assert finding.where == "environment keys ($AWS_ACCESS_KEY_ID)"
    assert "AKIA" not in f"{finding}"


def test_aws_config_file_counts_as_credentials(no_aws: Path) -> None:
    (no_aws / ".aws").mkdir()
    (no_aws / ".aws" / "config").write_text("[profile dev]\nsso_start_url = https://example\n")
    finding = aws_credentials()
    assert (finding.found, finding.where) == (True, str(no_aws / ".aws" / "config"))


def test_inv_doctor_reports_every_tool_and_exits_zero(require_tool: Callable[[str], str]) -> None:
    helm = require_tool("helm")  # installed by `inv tools` (.ci/run runs it first)
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "doctor"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if "│" in line}
    expected = {exe for tool in TOOLS for exe in tool.bins}
    expected |= {"pg_dump", "pg_restore", "psql", "terraform", "aws credentials"}
    assert expected <= set(rows)
    assert "found" in rows["helm"]
    if Path(helm).parent == REPO_ROOT / ".tools" / "bin":
        assert "4.1.4" in rows["helm"]
    assert re.search(r"^\d+ found, \d+ missing$", done.stdout, re.MULTILINE)
