"""Fixtures of the chart tests: a real helm binary, renders per environment and colour, scanners."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from detection_ops.deploy.manifests import Manifest, merge_values, of_kind, pod_specs

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "detection-api"
CRD_MODELS = Path(__file__).resolve().parent / "crd-models"
ENVIRONMENTS = ("dev", "staging", "production")
COLORS = ("blue", "green")
RELEASE = "detection-api"
NAMESPACE = "detection-api"
# `inv deploy` always passes the image digests; renders here do the same.
DIGEST = "sha256:" + "0123456789abcdef" * 4
DEPLOY_VALUES = {"colors": {color: {"digest": DIGEST} for color in COLORS}}
# Mid-release state: both colours run, so either may be the active one.
BOTH_SCALED = {"colors": {color: {"replicaCount": 3} for color in COLORS}}
CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "ExternalSecret"}
# The backup CronJob switched on where the values files leave it off (dev, the defaults).
BACKUP_VALUES = {
    "enabled": True,
    "bucket": "detection-api-dev-backups-111122223333",
    "kmsKeyArn": "arn:aws:kms:eu-central-1:111122223333:key/1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
    "serviceAccount": {"roleArn": "arn:aws:iam::111122223333:role/detection-api-dev-backup"},
    "image": {"digest": "sha256:" + "ab" * 32},
}
BACKUP_ON = {
    "backup": BACKUP_VALUES,
    "networkPolicy": {"postgresCidrs": ["10.0.1.0/24"], "awsEndpointCidrs": ["10.0.3.0/24"]},
}


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a tool, capturing its output (the caller asserts on the return code)."""
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


@dataclass
class Helm:
    """A real helm binary with private cache/config/data homes."""

    binary: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    _counter: int = 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([self.binary, *args], env=self.env)

    def _values_args(self, environment: str | None, values: dict[str, Any] | None) -> list[str]:
        args = []
        if environment:
            args += ["-f", str(CHART / f"values-{environment}.yaml")]
        self._counter += 1
        overrides = self.workdir / f"values-{self._counter}.yaml"
        overrides.write_text(yaml.safe_dump(merge_values(DEPLOY_VALUES, values or {})))
        return [*args, "-f", str(overrides)]

    def template_args(
        self, environment: str | None, values: dict[str, Any] | None, chart: Path
    ) -> list[str]:
        return [
            "template",
            RELEASE,
            str(chart),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            "1.33.0",
            *self._values_args(environment, values),
        ]

    def template(
        self,
        environment: str | None = None,
        values: dict[str, Any] | None = None,
        chart: Path = CHART,
    ) -> list[Manifest]:
        result = self.run(*self.template_args(environment, values, chart))
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    def template_error(
        self,
        environment: str | None = None,
        values: dict[str, Any] | None = None,
        chart: Path = CHART,
    ) -> str:
        result = self.run(*self.template_args(environment, values, chart))
        assert result.returncode != 0, "the render was expected to fail"
        return result.stderr

    def template_to_dir(
        self, dest: Path, environment: str | None = None, values: dict[str, Any] | None = None
    ) -> list[Path]:
        args = self.template_args(environment, values, CHART)
        result = self.run(*args, "--output-dir", str(dest))
        assert result.returncode == 0, result.stderr
        return sorted(dest.rglob("*.yaml"))

    def lint(self, environment: str | None, values: dict[str, Any] | None = None) -> str:
        args = ["lint", "--strict", str(CHART), *self._values_args(environment, values)]
        result = self.run(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


@pytest.fixture(scope="session")
def helm(require_tool: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> Helm:
    home = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[name] = str(home / name.lower())
    return Helm(binary=require_tool("helm"), workdir=tmp_path_factory.mktemp("values"), env=env)


@pytest.fixture(scope="session")
def renders(helm: Helm) -> dict[tuple[str, str], list[Manifest]]:
    """Every environment rendered with each active colour."""
    return {
        (environment, color): helm.template(environment, {"activeColor": color, **BOTH_SCALED})
        for environment in ENVIRONMENTS
        for color in COLORS
    }


Renders = dict[tuple[str, str], list[Manifest]]


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [m for m in of_kind(manifests, kind) if m["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def every_pod(renders: Renders) -> Iterator[tuple[str, dict[str, Any]]]:
    for (environment, color), manifests in renders.items():
        for name, pod in pod_specs(manifests):
            yield f"{environment}/{color}/{name}", pod


BACKUP = f"{RELEASE}-backup"  # the backup CronJob and its ServiceAccount


def app_pods(renders: Renders) -> Iterator[tuple[str, dict[str, Any]]]:
    """Pods of the service itself (both colours, migrations): every pod but the backup's."""
    for where, pod in every_pod(renders):
        if not where.endswith(f"/{BACKUP}"):
            yield where, pod


def api_deployments(renders: Renders) -> Iterator[tuple[str, Manifest]]:
    for (environment, color), manifests in renders.items():
        for deployment in of_kind(manifests, "Deployment"):
            yield f"{environment}/{color}/{deployment['metadata']['name']}", deployment


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@dataclass(frozen=True)
class CrdValidator:
    """Schema validation of CRD-backed objects with the kubernetes-models validators (node)."""

    node: str
    models: Path

    def errors(self, manifests: list[Manifest]) -> list[dict[str, Any]]:
        result = run(
            [self.node, str(self.models / "validate.mjs")],
            input=json.dumps(manifests),
            cwd=self.models,
        )
        assert result.returncode == 0, result.stderr
        return [r for r in json.loads(result.stdout) if r["error"]]


@pytest.fixture(scope="session")
def crd_validator(require_tool: Callable[[str], str]) -> CrdValidator:
    """Installs the pinned CRD model packages (npm ci, cached under .tools/) once."""
    node, npm = require_tool("node"), require_tool("npm")
    target = REPO_ROOT / ".tools" / "crd-models"
    lock = (CRD_MODELS / "package-lock.json").read_text()
    stamp = target / "installed-lock.json"
    if not stamp.exists() or stamp.read_text() != lock:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in ("package.json", "package-lock.json", "validate.mjs"):
            shutil.copy(CRD_MODELS / name, target / name)
        result = run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=target)
        assert result.returncode == 0, result.stderr
        stamp.write_text(lock)
    shutil.copy(CRD_MODELS / "validate.mjs", target / "validate.mjs")
    return CrdValidator(node=node, models=target)


SAMPLE_RULES = {
    "groups": [
        {
            "name": "detection-api-sample",
            "rules": [
                {
                    "alert": "DetectionApiDown",
                    "expr": 'absent(up{job="detection-api"} == 1)',
                    "for": "5m",
                    "labels": {"severity": "page"},
                    "annotations": {"summary": "No detection-api target is up"},
                }
            ],
        }
    ]
}


@pytest.fixture(scope="session")
def bare_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart without the observability files (rules, dashboards)."""
    chart = tmp_path_factory.mktemp("bare-chart") / "detection-api"
    shutil.copytree(CHART, chart)
    (chart / "files" / "prometheus-rules.yaml").unlink(missing_ok=True)
    shutil.rmtree(chart / "files" / "dashboards", ignore_errors=True)
    return chart


@pytest.fixture(scope="session")
def rules_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart with the files the observability work will add (rules, a dashboard)."""
    chart = tmp_path_factory.mktemp("chart") / "detection-api"
    shutil.copytree(CHART, chart)
    (chart / "files" / "dashboards").mkdir(parents=True, exist_ok=True)
    (chart / "files" / "prometheus-rules.yaml").write_text(yaml.safe_dump(SAMPLE_RULES))
    (chart / "files" / "dashboards" / "red.json").write_text(json.dumps({"title": "RED"}))
    return chart
