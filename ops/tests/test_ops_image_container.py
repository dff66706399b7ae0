"""The ops image (ops/Dockerfile) runs the chart's backup command for real: built like the
service image (private dockerd and the locally made Debian base on the CI machines here), run as
the CronJob runs it (read-only root, non-root, no capabilities, /tmp as scratch), against the real
PostgreSQL at 127.0.0.1:5432 (filled by the real service) and S3 + KMS from moto_server.

Both servers listen on loopback, so the container shares the host's network. Time box: the first
run on a machine bootstraps the base (~2 min, shared with test_image_container.py) and downloads
the locked wheels and the PostgreSQL client; later runs reuse the layers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from detection_ops.backup import postgres
from detection_ops.backup.drill import seed
from detection_ops.backup.localaws import BackupBucket, moto_server, provision
from detection_ops.backup.manifest import Manifest
from detection_ops.image.build import ImageMeta, image_size_mb
from detection_ops.image.engine import Engine
from detection_ops.localserver import free_port
from ops.tests.test_image_container import UID, build_for_test, engine, meta

__all__ = ["engine", "meta"]  # module-scoped fixtures shared with the service image's test

pytestmark = pytest.mark.slow

TAG = "detection-ops:container-test"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PRODUCTION_MAJOR = 16  # RDS PostgreSQL 16: the image's pg_dump must be at least this
RUN_TIMEOUT_S = 300.0
# The Python side is trimmed as the service image's is (slim.py); the rest is the base and the
# PostgreSQL client with its Perl (about 70 MB). 495 MB before the trim, 304 MB after.
SIZE_TARGET_MB = 320


@pytest.fixture(scope="module")
def image(engine: Engine, meta: ImageMeta) -> str:
    build_for_test(engine, meta, TAG, dockerfile="ops/Dockerfile")
    return TAG


@pytest.fixture(scope="module")
def aws(require_tool: Any) -> Iterator[tuple[dict[str, str], BackupBucket]]:
    """moto_server, and this process's AWS_* pointed at it (boto3 here, -e for the container)."""
    require_tool("moto_server")
    with moto_server() as env, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env, provision(boto3.session.Session(), f"ops-image-{secrets.token_hex(4)}")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A PostgreSQL database with detections and pending outbox rows, made by the service."""
    name = f"ops_image_{secrets.token_hex(4)}"
    url = postgres.create_database(SERVER, name).render_as_string(False)
    try:
        seed(url, 4, free_port())
        yield url
    finally:
        postgres.drop_database(SERVER, name)


def run_as_the_cronjob(engine: Engine, image: str, env: dict[str, str], *args: str) -> Any:
    """`docker run` with the chart's pod security: read-only root, UID 10001, no capabilities."""
    options = [
        "--rm",
        "--network=host",
        "--read-only",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "--tmpfs=/tmp:rw,mode=1777",
    ]
    for name, value in env.items():
        options += ["-e", f"{name}={value}"]
    return engine.run("run", *options, image, *args, timeout=RUN_TIMEOUT_S, check=False)


def test_ops_image_ships_a_pg_dump_for_the_production_server(engine: Engine, image: str) -> None:
    done = engine.run("run", "--rm", "--entrypoint", "pg_dump", image, "--version", timeout=60)
    major = int(re.search(r"(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert major >= PRODUCTION_MAJOR, done.stdout
    user = engine.run("image", "inspect", "--format", "{{.Config.User}}", image, timeout=30)
    assert user.stdout.strip() == f"{UID}:{UID}"


def test_ops_image_is_trimmed_like_the_service_image(engine: Engine, image: str) -> None:
    size = image_size_mb(engine, image)
    print(f"\nimage {image}: {size:.1f} MB (target < {SIZE_TARGET_MB} MB)")
    assert size < SIZE_TARGET_MB, f"image is {size:.0f} MB"
    probe = "import boto3, numpy; print(numpy.__file__)"
    done = engine.run("run", "--rm", "--entrypoint", "python", image, "-c", probe, timeout=60)
    assert done.stdout.strip().endswith("numpy/__init__.pyc"), "third-party code as bytecode"


def test_backup_command_of_the_cronjob_stores_a_verified_dump(
    engine: Engine, image: str, aws: tuple[dict[str, str], BackupBucket], database: str
) -> None:
    env, bucket = aws
    settings = {
        **env,
        "DETECTION_OPS_BACKUP_BUCKET": bucket.bucket,
        "DETECTION_OPS_BACKUP_KMS_KEY": bucket.kms_key_arn,
        "DETECTION_API_DATABASE_URL": database,
    }
    done = run_as_the_cronjob(engine, image, settings, "backup", "--env", "container-test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify postgres" in done.stdout + done.stderr

    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket.bucket)["Contents"]]
    (manifest_key,) = [key for key in keys if key.endswith("manifest.json")]
    body = s3.get_object(Bucket=bucket.bucket, Key=manifest_key)["Body"].read()
    manifest = Manifest.from_json(body.decode())
    assert manifest.kind == "postgres"
    assert manifest.environment == "container-test"
    assert manifest.tables == postgres.table_states(database)
    assert manifest.tables["outbox"].rows == 4
    tool = re.fullmatch(r"pg_dump (\d+) \(server \d+\)", manifest.tool)  # the image's pg_dump
    assert tool, manifest.tool
    assert int(tool.group(1)) >= PRODUCTION_MAJOR
    assert manifest.prefix + manifest.artifact.name in keys


def test_backup_in_the_image_fails_clearly_without_its_bucket(engine: Engine, image: str) -> None:
    done = run_as_the_cronjob(engine, image, {}, "backup", "--env", "container-test")
    assert done.returncode == 1
    assert "DETECTION_OPS_BACKUP_BUCKET" in done.stdout + done.stderr
