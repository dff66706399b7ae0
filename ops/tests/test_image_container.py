"""The container test: build app/Dockerfile, run it as production runs it, use it over HTTP.

On the CI machines here there is no registry and no running daemon: the test starts a private
dockerd (data root under var/image/docker, kept so layers stay cached) and builds on locally made
bases: Debian trixie (debootstrap) as the builder and a distroless-shaped runtime cut from it
(both cached under var/image/base). GitHub runners and laptops use their own Docker and the
Dockerfile's digest-pinned debian:trixie-slim and gcr.io/distroless/python3-debian13.

Time box: the first run on a machine bootstraps the base (~2 min) and downloads the locked wheels;
later runs reuse both and take about a minute. Every docker call has its own timeout.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from detection_api.api.examples import example_detection
from detection_ops.deploy.steps import OperatorError
from detection_ops.image.base import ensure_bases
from detection_ops.image.build import (
    DOCKERFILE,
    ImageFiles,
    ImageMeta,
    build_image,
    image_size_mb,
)
from detection_ops.image.engine import Engine, docker_engine
from detection_ops.localserver import free_port

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
FILES = ImageFiles(REPO_ROOT)
TAG = "detection-api:container-test"
UID = "10001"
DATA = "/var/lib/detection-api"
DEV_KEY = "dak_dev_dev-only-not-a-secret"
BUILD_TIMEOUT_S = 900.0
READY_TIMEOUT_S = 60.0
# The image's size target. It also catches what the Dockerfile and slim.py keep out: compilers,
# build tools, a shell, test suites, unused AWS models, native symbols, third-party sources.
SIZE_TARGET_MB = 200


@pytest.fixture(scope="module")
def engine(require_tool: Any) -> Iterator[Engine]:
    require_tool("docker")
    try:
        with docker_engine(FILES.state / "docker", REPO_ROOT / ".tools" / "bin") as running:
            yield running
    except OperatorError as error:
        pytest.fail(f"no docker engine for the container test: {error}")


@pytest.fixture(scope="module")
def meta() -> ImageMeta:
    """Read once: other commits may land on the branch while the test runs."""
    return ImageMeta.from_repo(REPO_ROOT, os.environ)


def build_for_test(engine: Engine, meta: ImageMeta, tag: str, dockerfile: str = DOCKERFILE) -> None:
    """Build from the working tree, on the locally made base where the daemon has no registry."""
    try:
        bases = ensure_bases(engine, FILES.state / "base") if engine.private else None
        build_image(
            engine,
            REPO_ROOT,
            meta,
            tag,
            bases=bases,
            timeout=BUILD_TIMEOUT_S,
            dockerfile=dockerfile,
        )
    except OperatorError as error:
        pytest.fail(f"{dockerfile} build failed: {error}")


@pytest.fixture(scope="module")
def image(engine: Engine, meta: ImageMeta) -> dict[str, float]:
    """Build the image from the working tree; returns the figures the report prints."""
    started = time.monotonic()
    build_for_test(engine, meta, TAG)
    return {"build_s": time.monotonic() - started, "size_mb": image_size_mb(engine, TAG)}


def network_options(engine: Engine, port: int, metrics_port: int) -> list[str]:
    """Published on 127.0.0.1 only; a private dockerd has no bridge, so there the container
    shares the host's network and listens on 127.0.0.1 itself."""
    if engine.private:
        listen = ["-e", "DETECTION_API_HOST=127.0.0.1", "-e", f"DETECTION_API_PORT={port}"]
        return ["--network=host", *listen, "-e", f"DETECTION_API_METRICS_PORT={metrics_port}"]
    return ["-p", f"127.0.0.1:{port}:8000", "-e", "DETECTION_API_HOST=0.0.0.0"]


@pytest.fixture(scope="module")
def container(
    engine: Engine, image: dict[str, float]
) -> Iterator[tuple[str, str, dict[str, float]]]:
    """The image run as the chart runs it: read-only root, non-root, no capabilities."""
    port, name = free_port(), f"detection-api-test-{os.getpid()}"
    options = [
        "--read-only",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        f"--tmpfs={DATA}:rw,uid={UID},gid={UID},mode=0700",
        "--tmpfs=/tmp:rw,mode=1777",
        "-e",
        f"DETECTION_API_DATABASE_URL=sqlite:///{DATA}/detections.db",
        *network_options(engine, port, free_port()),
    ]
    started = time.monotonic()
    engine.run("run", "--detach", "--name", name, *options, TAG, timeout=60)
    try:
        url = f"http://127.0.0.1:{port}"
        ready_s = wait_ready(engine, name, url, started)
        yield name, url, {**image, "cold_start_s": ready_s}
    finally:
        engine.run("rm", "--force", name, timeout=60, check=False)


def wait_ready(engine: Engine, name: str, url: str, started: float) -> float:
    while time.monotonic() - started < READY_TIMEOUT_S:
        state = engine.run("inspect", "--format", "{{.State.Running}}", name, timeout=30).stdout
        if state.strip() != "true":
            logs = engine.run("logs", name, timeout=30, check=False)
            pytest.fail(f"the container exited before it was ready:\n{logs.stdout}{logs.stderr}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    logs = engine.run("logs", name, timeout=30, check=False)
    pytest.fail(f"not ready within {READY_TIMEOUT_S:.0f} s:\n{logs.stdout}{logs.stderr}")


def test_container_serves_read_only_as_its_non_root_user(
    engine: Engine, container: tuple[str, str, dict[str, float]], capsys: pytest.CaptureFixture[str]
) -> None:
    name, url, figures = container
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").status_code == 200
        created = client.post(
            "/v1/detections", json=example_detection(), headers={"X-API-Key": DEV_KEY}
        )
    assert created.status_code == 201, created.text
    located = created.json()["location"]  # geolocated inside the container (numpy, EGM96)
    assert located["lat"] == pytest.approx(48.1 + 120 * 0.866 / 111_200, abs=2e-5)
    assert located["hae"] == pytest.approx(0.0, abs=0.01)

    uid = engine.run("exec", name, "python3", "-c", "import os; print(os.getuid())", timeout=30)
    assert uid.stdout.strip() == UID
    for shell in ("sh", "/bin/sh", "bash"):  # distroless: nothing to exec into
        assert engine.run("exec", name, shell, "-c", "true", timeout=30, check=False).returncode
    write = engine.run(
        "exec", name, "python3", "-c", "open('/probe', 'w')", timeout=30, check=False
    )
    assert write.returncode != 0
    assert "Read-only file system" in write.stderr

    report(figures, capsys)
    assert figures["size_mb"] < SIZE_TARGET_MB, f"image is {figures['size_mb']:.0f} MB"


def test_trimmed_virtualenv_still_signs_rds_iam_tokens_and_keeps_our_sources(
    engine: Engine, container: tuple[str, str, dict[str, float]]
) -> None:
    """slim.py removed the test suites, all AWS models but RDS and STS and the third-party
    sources (bytecode stays); IAM auth still works and the service's own sources are there."""
    name, _, _ = container
    script = (
        "import boto3, numpy, pathlib, detection_api\n"
        "boto3.client('sts', region_name='eu-west-1')\n"
        "rds = boto3.client('rds', region_name='eu-west-1')\n"
        "print(rds.generate_db_auth_token('db.internal', 5432, 'detection_api'))\n"
        "print(sorted(p.name for p in pathlib.Path(numpy.__file__).parent.rglob('tests')))\n"
        "print(numpy.__file__, len(list(pathlib.Path(numpy.__file__).parent.rglob('*.py'))))\n"
        "print(pathlib.Path(detection_api.__file__).parent.joinpath('main.py').is_file())\n"
    )
    fake_credentials = ["-e", "AWS_ACCESS_KEY_ID=AKIATESTTESTTEST", "-e", "AWS_SECRET_ACCESS_KEY=x"]
    done = engine.run("exec", *fake_credentials, name, "python3", "-c", script, timeout=60)
    token, suites, numpy_files, own_sources = done.stdout.splitlines()
    assert token.startswith("db.internal:5432/?Action=connect")
    assert "X-Amz-Signature=" in token
    assert suites == "[]"
    assert numpy_files.endswith("numpy/__init__.pyc 0")
    assert own_sources == "True"


def test_image_carries_the_oci_labels_of_this_commit(
    engine: Engine, meta: ImageMeta, image: dict[str, float]
) -> None:
    labels = json.loads(
        engine.run(
            "image", "inspect", "--format", "{{json .Config.Labels}}", TAG, timeout=30
        ).stdout
    )
    assert labels["org.opencontainers.image.revision"] == meta.revision
    assert labels["org.opencontainers.image.version"] == meta.version
    assert labels["org.opencontainers.image.source"].startswith("https://")
    user = engine.run(
        "image", "inspect", "--format", "{{.Config.User}}", TAG, timeout=30
    ).stdout.strip()
    assert user == f"{UID}:{UID}"


def report(figures: dict[str, float], capsys: pytest.CaptureFixture[str]) -> None:
    """Print the figures and keep them in reports/image/container-test.json."""
    FILES.reports.mkdir(parents=True, exist_ok=True)
    rounded = {key: round(value, 1) for key, value in figures.items()}
    (FILES.reports / "container-test.json").write_text(json.dumps(rounded, indent=2) + "\n")
    with capsys.disabled():
        print(
            f"\nimage {TAG}: {rounded['size_mb']} MB (target < {SIZE_TARGET_MB} MB), "
            f"build {rounded['build_s']} s, cold start to ready {rounded['cold_start_s']} s"
        )
