"""trivy scans of the saved image: misconfigurations and secrets (offline), CVEs (online).

The CVE scan needs trivy's vulnerability database, which is downloaded from a registry these
machines cannot reach; it runs on GitHub Actions and fails on CRITICAL/HIGH findings unless the
reviewed ignore file (.trivyignore, one reason per entry) lists them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detection_ops.deploy.steps import OperatorError

BLOCKING_SEVERITIES = "CRITICAL,HIGH"
SCAN_TIMEOUT_S = 900.0
FINDING_KINDS = {
    "Misconfigurations": "misconfig",
    "Secrets": "secret",
    "Vulnerabilities": "vulnerability",
}


@dataclass(frozen=True)
class Scan:
    """One trivy run: its name (also the report's file name) and what it scans for."""

    name: str
    options: tuple[str, ...]

    def command(self, trivy: str, tar: Path, reports: Path, cache: Path) -> list[str]:
        report = ("--format", "json", "--output", str(reports / f"{self.name}.json"))
        return trivy_image(trivy, tar, cache, *self.options, "--exit-code", "1", *report)


def trivy_image(trivy: str, tar: Path, cache: Path, *options: str) -> list[str]:
    """`trivy image` of a saved image archive (`docker save` output)."""
    return [trivy, "image", "--input", str(tar), "--cache-dir", str(cache), *options]


def misconfig_and_secrets(secret_config: Path) -> Scan:
    """Files inside the image and the image's own config (its build history: USER, ports,
    secrets in ENV/LABEL). The bundled checks are used as they are: no download.
    `secret_config` holds the reviewed allow rules (false positives, one file each)."""
    return Scan(
        "misconfig-secret",
        (
            "--scanners",
            "misconfig,secret",
            "--image-config-scanners",
            "misconfig,secret",
            "--skip-check-update",
            "--secret-config",
            str(secret_config),
        ),
    )


def vulnerabilities(ignorefile: Path) -> Scan:
    return Scan(
        "vulnerabilities",
        ("--scanners", "vuln", "--severity", BLOCKING_SEVERITIES, "--ignorefile", str(ignorefile)),
    )


def plan(*, with_vulnerabilities: bool, root: Path) -> tuple[Scan, ...]:
    """The offline scans always; the CVE scan when its database is reachable."""
    offline = misconfig_and_secrets(root / "trivy-secret.yaml")
    if with_vulnerabilities:
        return (offline, vulnerabilities(root / ".trivyignore"))
    return (offline,)


@dataclass(frozen=True)
class Finding:
    kind: str
    target: str
    id: str
    severity: str
    title: str

    def line(self) -> str:
        return f"{self.severity:<8} {self.kind:<13} {self.id:<20} {self.target}: {self.title}"


def findings(report: dict[str, Any]) -> Iterator[Finding]:
    """Every failed check, secret and vulnerability in a trivy JSON report."""
    for result in report.get("Results") or []:
        for key, kind in FINDING_KINDS.items():
            for item in result.get(key) or []:
                if item.get("Status", "FAIL") != "FAIL":
                    continue
                yield Finding(
                    kind=kind,
                    target=result.get("Target", "?"),
                    id=item.get("ID") or item.get("RuleID") or item.get("VulnerabilityID", "?"),
                    severity=item.get("Severity", "UNKNOWN"),
                    title=item.get("Title") or item.get("PkgName", ""),
                )


def run_scan(scan: Scan, trivy: str, tar: Path, reports: Path, cache: Path) -> list[Finding]:
    """Run one scan; return its findings (empty when it passed). Tool failures raise."""
    reports.mkdir(parents=True, exist_ok=True)
    report = reports / f"{scan.name}.json"
    report.unlink(missing_ok=True)
    done = subprocess.run(  # noqa: S603 - pinned trivy, our own arguments
        scan.command(trivy, tar, reports, cache),
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT_S,
        check=False,
    )
    found = list(findings(json.loads(report.read_text()))) if report.is_file() else []
    if done.returncode == 0 or found:
        return found
    trace = "\n".join(done.stderr.strip().splitlines()[-15:])
    raise OperatorError(
        f"trivy {scan.name} scan exited {done.returncode} without a report:\n{trace}",
        "read trivy's output above",
    )
