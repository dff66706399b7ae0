"""`inv plan` / `inv apply`: saved plans only, and a clear message (never a traceback) when AWS
credentials, provider access or the reviewed plan are missing."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from detection_ops.infra import REPO_ROOT, terraform

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in AWS_VARIABLES and not k.startswith("TF_")
    }
    env.update(HOME=str(tmp_path / "home"), TF_DATA_DIR=str(tmp_path / "tfdata"), **extra)
    return env


def _inv(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_plan_without_aws_credentials_stops_with_a_clear_message(tmp_path: Path) -> None:
    result = _inv("plan", "--env", "staging", env=_clean_env(tmp_path))
    assert result.returncode == 2
    assert "plan: no AWS credentials found" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_plan_without_provider_access_stops_with_a_clear_message(tmp_path: Path) -> None:
    """Real Terraform, registry pointed at a closed local port: modules and providers cannot be
    installed, exactly like a machine without registry access."""
    port = _closed_port()
    config = tmp_path / "terraform.rc"
    config.write_text(
        'host "registry.terraform.io" {\n'
        f'  services = {{ "modules.v1" = "https://127.0.0.1:{port}/v1/modules/",'
        f' "providers.v1" = "https://127.0.0.1:{port}/v1/providers/" }}\n'
        "}\n"
    )
    env = _clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="example",  # noqa: S106 - fake credentials, never sent
        TF_CLI_CONFIG_FILE=str(config),
    )
    result = _inv("plan", "--env", "dev", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "plan: terraform init failed for dev" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_apply_without_a_reviewed_plan_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terraform, "PLAN_DIR", tmp_path / "plans")
    assert terraform.main(["apply", "--env", "production"]) == 2


def test_unknown_environment_is_rejected_without_traceback(tmp_path: Path) -> None:
    result = _inv("plan", "--env", "prod", env=_clean_env(tmp_path))
    assert result.returncode != 0
    assert "invalid choice: 'prod'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def _recording_terraform(tmp_path: Path) -> Path:
    """A stand-in terraform binary (the AWS provider cannot run here) that logs its arguments
    and writes the -out file like the real one."""
    script = tmp_path / "bin" / "terraform"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{tmp_path}/calls.log"\n'
        'for arg in "$@"; do case "$arg" in -out=*) echo plan > "${arg#-out=}";; esac; done\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_apply_applies_exactly_the_saved_plan_then_consumes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terraform, "PLAN_DIR", tmp_path / "plans")
    runner = terraform.BinaryTerraform(str(_recording_terraform(tmp_path)))
    environ = {"AWS_PROFILE": "ops", "HOME": str(tmp_path)}

    saved = terraform.plan("staging", runner, environ)
    assert saved == tmp_path / "plans" / "staging.tfplan"
    assert saved.is_file()
    terraform.apply("staging", runner, environ)
    assert not saved.exists()

    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls == [
        "init -input=false",
        f"plan -input=false -out={saved}",
        "init -input=false",
        f"apply -input=false {saved}",
    ]


def test_failed_apply_keeps_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terraform, "PLAN_DIR", tmp_path / "plans")
    saved = terraform.plan_path("dev")
    saved.parent.mkdir(parents=True)
    saved.write_text("plan")
    failing = tmp_path / "terraform"
    failing.write_text('#!/bin/sh\ncase "$1" in apply) exit 1;; esac\n')
    failing.chmod(0o755)
    with pytest.raises(terraform.InfraError, match="the plan is kept"):
        terraform.apply("dev", terraform.BinaryTerraform(str(failing)), {"AWS_PROFILE": "ops"})
    assert saved.is_file()


@pytest.mark.parametrize(
    ("environ", "found"),
    [
        ({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, True),
        ({"AWS_ACCESS_KEY_ID": "a"}, False),
        ({"AWS_PROFILE": "ops"}, True),
        ({"AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn"}, True),
        ({}, False),
    ],
)
def test_credential_sources(environ: dict[str, str], found: bool, tmp_path: Path) -> None:
    assert (terraform.credential_source(environ, tmp_path) is not None) is found


def test_shared_credentials_file_counts(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    assert terraform.credential_source({}, tmp_path) == str(tmp_path / ".aws" / "credentials")
