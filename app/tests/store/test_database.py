"""PostgreSQL connections: the pool budget fits RDS max_connections, and RDS IAM authentication
puts a fresh signed token in the password of every new connection."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from detection_api.settings import Settings
from detection_api.store.database import create_database_engine

RDS_MAX_CONNECTIONS = 200  # infra/modules/database parameter group
MAX_PODS = 10  # HPA maximum, both colours' workers included
RESERVED = 20  # migrations, backups, operators, replication


def test_the_default_pool_budget_fits_max_connections_across_ten_pods() -> None:
    settings = Settings()
    per_pod = settings.database_pool_size + settings.database_max_overflow
    assert per_pod * MAX_PODS <= RDS_MAX_CONNECTIONS - RESERVED


def test_rds_iam_auth_signs_a_token_for_each_new_connection(
    monkeypatch: pytest.MonkeyPatch, postgres_available: bool
) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:5432/test",
        database_iam_auth=True,
        aws_region="eu-central-1",
    )
    engine = create_database_engine(settings)
    passwords: list[str] = []

    @event.listens_for(engine, "do_connect")
    def _capture(_dialect: Any, _record: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        passwords.append(kwargs["password"])

    with engine.connect() as first, engine.connect() as second:  # trust auth ignores passwords
        assert first.execute(text("SELECT 1")).scalar_one() == 1
        assert second.execute(text("SELECT 1")).scalar_one() == 1
    assert len(passwords) == 2
    assert all(p.startswith("127.0.0.1:5432/?Action=connect&DBUser=postgres") for p in passwords)
    assert all("X-Amz-Signature=" in p for p in passwords)
    engine.dispose()
