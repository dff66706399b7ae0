"""Per-caller rate limits, in process memory and in Redis (shared by every replica)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from detection_api.api.problems import ProblemError
from detection_api.api.ratelimit import RateLimiter
from detection_api.settings import Settings

REDIS_URL = os.environ.get("DETECTION_API_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_storage() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as error:
        if os.environ.get("CI", "").lower() in {"1", "true"}:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_callers_over_their_limit_get_429_with_retry_after(
    start_client: Callable[..., TestClient], auth: dict[str, str], storage: str
) -> None:
    uri = "memory://" if storage == "memory" else redis_storage()
    prefix = f"test-{uuid.uuid4().hex}"
    client = start_client(
        rate_limit="3/minute", rate_limit_storage=uri, rate_limit_key_prefix=prefix
    )
    statuses = [client.get("/v1/detections", headers=auth).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/v1/detections", headers=auth)
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Probes are not rate limited.
    assert client.get("/livez").status_code == 200


def test_redis_limits_hold_across_replicas(
    start_client: Callable[..., TestClient], auth: dict[str, str]
) -> None:
    uri = redis_storage()
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        "rate_limit": "4/minute",
        "rate_limit_storage": uri,
        "rate_limit_key_prefix": prefix,
    }
    replica_a, replica_b = start_client(**settings), start_client(**settings)
    statuses = [
        replica.get("/v1/detections", headers=auth).status_code
        for replica in (replica_a, replica_b, replica_a, replica_b, replica_a)
    ]
    assert statuses == [200, 200, 200, 200, 429]


def test_limits_are_per_caller(
    start_client: Callable[..., TestClient], auth: dict[str, str]
) -> None:
    client = start_client(rate_limit="2/minute")
    created = client.post(
        "/v1/admin/api-keys", json={"name": "other", "scopes": ["detections:read"]}, headers=auth
    ).json()
    # The POST counted: one more request fits in the dev key's window, then it is limited.
    assert [client.get("/v1/detections", headers=auth).status_code for _ in range(2)] == [200, 429]
    assert client.get("/v1/detections", headers={"X-API-Key": created["key"]}).status_code == 200


def test_a_redis_outage_falls_back_to_limits_in_this_process(
    start_client: Callable[..., TestClient], auth: dict[str, str]
) -> None:
    """Nothing listens on the port: requests are still served and limited, per process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        down = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    client = start_client(rate_limit="3/minute", rate_limit_storage=down)
    statuses = [client.get("/v1/detections", headers=auth).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    metrics = client.app.state.services.metrics  # type: ignore[attr-defined]
    errors = metrics.registry.get_sample_value("detection_api_rate_limit_storage_errors_total")
    assert errors == 1, "one failure, then the store is paused and memory counts"


def test_a_redis_that_never_answers_costs_one_timeout_then_is_left_alone() -> None:
    """A black hole (accepts, never replies) must not hold requests: after one storage timeout
    the limiter counts in memory and leaves the store alone for a pause."""
    errors: list[int] = []

    async def three_checks(limiter: RateLimiter) -> list[int]:
        statuses = []
        for _ in range(3):
            try:
                await limiter.check("caller")
                statuses.append(200)
            except ProblemError as problem:
                statuses.append(problem.status)
        return statuses

    with socket.create_server(("127.0.0.1", 0)) as hole:
        limiter = RateLimiter(
            "2/minute",
            f"redis://127.0.0.1:{hole.getsockname()[1]}/0",
            storage_timeout_seconds=0.2,
            on_storage_error=lambda: errors.append(1),
        )
        # The bound only turns a hang into a failure; the storage timeout is what decides.
        statuses = asyncio.run(asyncio.wait_for(three_checks(limiter), timeout=30))
    assert statuses == [200, 200, 429]
    assert len(errors) == 1, "the paused store is not asked again during the pause"


def test_a_rate_limit_store_that_is_neither_memory_nor_redis_is_refused() -> None:
    with pytest.raises(ValidationError, match="rate_limit_storage"):
        Settings(rate_limit_storage="memcached://127.0.0.1:11211")
