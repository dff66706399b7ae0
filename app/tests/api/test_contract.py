"""Schemathesis, in process against the OpenAPI document: no 5xx, every answer matches the
schema, and negative (schema-violating) data is rejected. 500 examples per operation and mode."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from detection_api.main import create_app
from detection_api.settings import Settings
from detection_api.store import migrate
from detection_api.store.database import create_database_engine

KEY = "dak_contract_0123456789abcdefghijklmnopq"
EXAMPLES = 500

_database = Path(tempfile.mkdtemp(prefix="contract-")) / "contract.db"
_settings = Settings(
    database_url=f"sqlite:///{_database}",
    metrics_port=0,
    dev_api_key=KEY,
    rate_limit="1000000/minute",
    log_level="ERROR",
    tak_destinations=["tcp://127.0.0.1:8087"],
)
migrate.upgrade(create_database_engine(_settings))
app = create_app(_settings, configure_logs=False)
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
schema.config.generation.update(
    modes=list(schemathesis.GenerationMode), max_examples=EXAMPLES, with_security_parameters=False
)


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with TestClient(app):  # runs the lifespan: stores, keys, metrics
        yield


@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_honours_its_openapi_contract(case: schemathesis.Case) -> None:
    # Every default check runs, negative-data rejection included, except one: schema-valid
    # requests may still be refused with 422 for rules JSON Schema cannot state (the pixel lies
    # inside the image, one intrinsics form of two, the class vocabulary, an expiry in the past).
    case.call_and_validate(headers={"X-API-Key": KEY}, excluded_checks=[positive_data_acceptance])
