"""The chart against the real service: probe routes it serves, settings it reads.

Kept apart from the manifest policies because it imports the service (a broken service must not
hide the chart's own results).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charts.tests.conftest import Renders, api_deployments, app_pods, env_of
from detection_api.delivery.destinations import Destination
from detection_api.main import create_app
from detection_api.settings import Settings
from detection_api.store import migrate
from detection_api.store.database import create_database_engine

PROBES = {"startupProbe": "/startupz", "livenessProbe": "/livez", "readinessProbe": "/readyz"}


@pytest.fixture(scope="module")
def service_routes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Status of each probe path on the real service (SQLite, migrated, no metrics listener)."""
    database = tmp_path_factory.mktemp("probe-db") / "detection-api.db"
    settings = Settings(database_url=f"sqlite:///{database}", metrics_port=0)
    migrate.upgrade(create_database_engine(settings))
    with TestClient(create_app(settings, configure_logs=False)) as client:
        return {path: client.get(path).status_code for path in [*PROBES.values(), "/no-such-probe"]}


def test_health_checks_liveness_readiness_startup_probes(
    renders: Renders, service_routes: dict[str, int]
) -> None:
    """Every API container has all three probes on the http port, at routes the service serves."""
    assert service_routes["/no-such-probe"] == 404
    for where, deployment in api_deployments(renders):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": 8000, "metrics": 9100}, where
        for probe, path in PROBES.items():
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}, (where, probe)
            assert service_routes[path] == 200, path
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30, where


def test_every_environment_variable_is_a_service_setting(renders: Renders) -> None:
    """The service ignores unknown DETECTION_API_* variables, so a typo here would pass silently."""
    known = {f"DETECTION_API_{name.upper()}" for name in Settings.model_fields}
    for where, pod in app_pods(renders):
        names = set(env_of(pod["containers"][0]))
        assert names, where
        assert names - known == set(), where


# Values a Secret supplies at run time; the chart only references them by name.
FROM_SECRETS = {
    "DETECTION_API_DATABASE_URL": "postgresql://detection_api@db.internal:5432/detections",
    "DETECTION_API_API_KEY_PEPPER": "a-long-random-pepper-from-the-secret-store",
    "DETECTION_API_TAK_KEY_PASSWORD": "from-a-secret",
    "DETECTION_API_TAK_PKCS12_PASSWORD": "from-a-secret",
}


def test_every_environment_s_settings_let_the_service_start(
    renders: Renders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rendered environment, secrets filled in, passes the service's own start-up checks
    (production refuses development defaults, so a chart that keeps one fails here)."""
    for where, deployment in api_deployments(renders):
        env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
        for name in [name for name in os.environ if name.startswith("DETECTION_API_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            if isinstance(value, str):
                monkeypatch.setenv(name, value)
            elif name in FROM_SECRETS:
                monkeypatch.setenv(name, FROM_SECRETS[name])
        settings = Settings()  # raises on a development default in production
        assert settings.environment.value == where.split("/")[0], where


def test_tak_destinations_are_named_and_tls_ones_use_the_mounted_client_certificate(
    renders: Renders,
) -> None:
    """The service parses every rendered destination; names become the metric labels; TLS ones
    carry the CA, certificate and key from the mounted secret."""
    seen_tls = False
    for where, deployment in api_deployments(renders):
        pod = deployment["spec"]["template"]["spec"]
        urls = json.loads(env_of(pod["containers"][0])["DETECTION_API_TAK_DESTINATIONS"])
        mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        for url in urls:
            destination = Destination.from_url(url)
            assert destination.name in url, where
            if destination.scheme == "tls":
                seen_tls = True
                assert "/etc/detection-api/tak" in mounts, where
                for path in (destination.ca_file, destination.cert_file, destination.key_file):
                    assert path is not None, (where, url)
                    assert path.parent == Path("/etc/detection-api/tak"), (where, url)
    assert seen_tls, "no environment renders a TLS destination"
