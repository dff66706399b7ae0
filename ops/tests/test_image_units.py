"""The image tasks' arguments, push target, build command, scan plan and ignore-file policy.

The container test (test_image_container.py) builds and runs the real image; these tests pin the
decisions around it without a docker daemon.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from detection_ops.deploy.steps import OperatorError
from detection_ops.image.__main__ import parse, push_target, vulnerabilities_wanted
from detection_ops.image.base import BaseRecipe, LocalBases
from detection_ops.image.build import ImageFiles, ImageMeta, build_command
from detection_ops.image.engine import private_dockerd
from detection_ops.image.scan import BLOCKING_SEVERITIES, findings, plan

REPO_ROOT = Path(__file__).resolve().parents[2]
REVISION = "0123456789abcdef0123456789abcdef01234567"
META = ImageMeta(REVISION, "0.1.0", None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "--push"], "--push needs --env"),
        (["build", "--env", "staging"], "--env only applies to --push"),
        (["build", "--push", "--env", "qa"], "invalid choice: 'qa'"),
    ],
)
def test_build_arguments_refused_with_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_push_with_env_parses() -> None:
    args = parse(["build", "--push", "--env", "production"])
    assert (args.push, args.env) == (True, "production")


def test_push_target_is_the_environments_ecr_repository_tagged_with_the_sha() -> None:
    registry = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
    target = push_target("staging", {"ECR_REGISTRY": registry}, META)
    assert target == f"{registry}/detection-api-staging:{REVISION}"


@pytest.mark.parametrize(
    ("registry", "problem"),
    [
        ("", "ECR_REGISTRY is not set"),
        ("   ", "ECR_REGISTRY is not set"),
        ("https://123.dkr.ecr.eu-central-1.amazonaws.com", "is not a registry host"),
        ("123.dkr.ecr.eu-central-1.amazonaws.com/detection-api", "is not a registry host"),
    ],
)
def test_push_target_refuses_a_missing_or_malformed_registry(registry: str, problem: str) -> None:
    with pytest.raises(OperatorError, match=problem):
        push_target("staging", {"ECR_REGISTRY": registry}, META)


def test_cve_scan_runs_when_asked_or_on_github_actions() -> None:
    assert vulnerabilities_wanted(True, {})
    assert vulnerabilities_wanted(False, {"GITHUB_ACTIONS": "true"})
    assert not vulnerabilities_wanted(False, {})


def test_image_meta_comes_from_git_and_the_service_manifest() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    environ = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "org/repo"}
    meta = ImageMeta.from_repo(REPO_ROOT, environ)
    assert meta.tag == f"detection-api:{head}"
    assert meta.build_args() == {
        "REVISION": head,
        "VERSION": "0.1.0",
        "SOURCE": "https://github.com/org/repo",
    }
    assert "SOURCE" not in ImageMeta.from_repo(REPO_ROOT, {}).build_args()


def test_build_command_uses_the_host_network_only_on_a_private_daemon() -> None:
    args = {"REVISION": REVISION, "BASE_IMAGE": "detection-base:trixie-abc"}
    private = build_command(REPO_ROOT, "detection-api:x", args, host_network=True)
    assert private[:5] == [
        "build",
        "--file",
        str(REPO_ROOT / "app/Dockerfile"),
        "--tag",
        "detection-api:x",
    ]
    assert "--network=host" in private
    assert private[-1] == str(REPO_ROOT)  # the context is the root: the lock file lives there
    assert f"REVISION={REVISION}" in private
    assert "BASE_IMAGE=detection-base:trixie-abc" in private
    assert "--network=host" not in build_command(REPO_ROOT, "t", args, host_network=False)


def test_local_bases_fill_each_dockerfiles_own_base_arguments() -> None:
    bases = LocalBases(builder="detection-base:trixie-abc", runtime="detection-runtime:trixie-abc")
    assert bases.build_args("app/Dockerfile") == {
        "BUILDER_IMAGE": "detection-base:trixie-abc",
        "RUNTIME_IMAGE": "detection-runtime:trixie-abc",
    }
    assert bases.build_args("ops/Dockerfile") == {"BASE_IMAGE": "detection-base:trixie-abc"}
    for dockerfile, arguments in (("app/Dockerfile", 2), ("ops/Dockerfile", 1)):
        declared = (REPO_ROOT / dockerfile).read_text()
        for name in bases.build_args(dockerfile):
            assert f"ARG {name}=" in declared, (dockerfile, name)
        assert declared.count("_IMAGE=") == arguments, dockerfile


def test_scan_plan_offline_then_cves_with_the_reviewed_ignore_file(tmp_path: Path) -> None:
    offline = plan(with_vulnerabilities=False, root=REPO_ROOT)
    assert [scan.name for scan in offline] == ["misconfig-secret"]
    misconfig = offline[0].command("trivy", tmp_path / "img.tar", tmp_path, tmp_path / "cache")
    assert misconfig[misconfig.index("--scanners") + 1] == "misconfig,secret"
    assert misconfig[misconfig.index("--secret-config") + 1] == str(REPO_ROOT / "trivy-secret.yaml")
    assert (REPO_ROOT / "trivy-secret.yaml").is_file()
    online = plan(with_vulnerabilities=True, root=REPO_ROOT)
    command = online[1].command("trivy", tmp_path / "img.tar", tmp_path, tmp_path / "cache")
    assert command[command.index("--scanners") + 1] == "vuln"
    assert command[command.index("--severity") + 1] == BLOCKING_SEVERITIES == "CRITICAL,HIGH"
    assert command[command.index("--ignorefile") + 1] == str(REPO_ROOT / ".trivyignore")
    assert command[command.index("--exit-code") + 1] == "1"


def test_every_secret_allow_rule_is_narrowed_to_a_path_and_explained() -> None:
    policy = yaml.safe_load((REPO_ROOT / "trivy-secret.yaml").read_text())
    assert set(policy) == {"allow-rules"}
    for rule in policy["allow-rules"]:
        assert rule["description"], rule
        assert rule["path"].startswith(".*/site-packages/"), "an allow rule names one package file"
        assert "regex" not in rule, "allowing a pattern everywhere would hide real secrets"


def test_findings_read_every_failed_check_secret_and_vulnerability() -> None:
    report = {
        "Results": [
            {
                "Target": "Dockerfile",
                "Misconfigurations": [
                    {"ID": "DS002", "Title": "Image user is root", "Severity": "HIGH"},
                    {"ID": "DS001", "Title": "ok", "Severity": "LOW", "Status": "PASS"},
                ],
            },
            {
                "Target": "/opt/app/key.pem",
                "Secrets": [
                    {"RuleID": "private-key", "Title": "Asymmetric Private Key", "Severity": "HIGH"}
                ],
            },
            {
                "Target": "Python",
                "Vulnerabilities": [
                    {"VulnerabilityID": "CVE-2026-1", "PkgName": "urllib3", "Severity": "CRITICAL"}
                ],
            },
            {"Target": "debian", "Vulnerabilities": None},
        ]
    }
    found = [(f.kind, f.id, f.severity) for f in findings(report)]
    assert found == [
        ("misconfig", "DS002", "HIGH"),
        ("secret", "private-key", "HIGH"),
        ("vulnerability", "CVE-2026-1", "CRITICAL"),
    ]
    assert list(findings({})) == []


def test_every_trivyignore_entry_has_a_reason_above_it() -> None:
    lines = (REPO_ROOT / ".trivyignore").read_text().splitlines()
    assert lines[0].startswith("#"), "the ignore file starts with its header comment"
    for number, line in enumerate(lines):
        entry = line.strip()
        if entry and not entry.startswith("#"):
            above = lines[number - 1].strip()
            assert above.startswith("#"), f"line {number + 1}: {entry} has no reason above it"
            assert len(above) > 10, f"line {number + 1}: {entry}: the reason {above!r} says nothing"


def test_local_base_key_changes_with_what_goes_into_it(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.crt"
    bundle.write_text("one")
    recipe = BaseRecipe(ca_bundle=bundle)
    before = recipe.key()
    assert recipe.tag == f"detection-base:trixie-{before}"
    assert BaseRecipe(suite="forky", ca_bundle=bundle).key() != before
    bundle.write_text("two")
    assert recipe.key() != before


@pytest.mark.skipif(sys.platform != "linux", reason="private dockerd: Linux CI machines only")
def test_a_dockerd_that_cannot_start_fails_with_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "dockerd"
    fake.write_text(
        "#!/bin/sh\necho 'failed to start daemon: overlay2 not supported' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    state = tmp_path / "state"
    if os.geteuid() != 0:
        with (
            pytest.raises(OperatorError, match="needs root"),
            private_dockerd(state, "docker", str(fake)),
        ):
            pass
        return
    refused = r"dockerd exited 1 while starting:\n.*overlay2 not supported"
    with pytest.raises(OperatorError, match=refused), private_dockerd(state, "docker", str(fake)):
        pass


def test_scan_takes_the_image_the_last_build_saved(tmp_path: Path) -> None:
    files = ImageFiles(tmp_path)
    assert files.saved() is None
    files.state.mkdir(parents=True)
    older, newer = files.state / "detection-api-aaa.tar", files.state / "detection-api-bbb.tar"
    for age, tar in ((100, older), (0, newer)):
        tar.write_bytes(b"")
        os.utime(tar, (time.time() - age, time.time() - age))
    assert files.saved() == newer
