"""Zero loss under chaos, over real sockets and real processes.

20,000 detections are posted while the TAK peer is stopped and restarted 5 times at random
moments and the API process is killed with SIGKILL twice mid-drain and restarted. Every uid
must reach the peer at least once; duplicates are counted and reported; the order in which
uids first arrive is the order in which they were accepted. On SQLite with one API process,
and on PostgreSQL with two API processes draining the same outbox at once.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.tests.support import DEV_KEY, ApiProcess, free_port, wait_until
from detection_api.api.examples import example_detection

from .conftest import ThreadedSink

COUNT = int(os.environ.get("DETECTION_API_ZERO_LOSS_COUNT", "20000"))
BATCH = 500


def detection(now: datetime, index: int) -> dict[str, Any]:
    pixel = {"x": 100 + index % 1700, "y": 540}
    pose = {**example_detection()["pose"], "yaw": index % 360}
    return example_detection(now, source="chaos-drone", pixel=pixel, pose=pose)


def post_all(apis: list[ApiProcess], accepted: list[str], stop: threading.Event) -> None:
    """Post COUNT detections in batches; a batch is retried (same Idempotency-Key) until some
    API process accepts it, as a real client would while the API restarts."""
    with httpx.Client(timeout=30, headers={"X-API-Key": DEV_KEY}) as client:
        for number in range(COUNT // BATCH):
            now = datetime.now(UTC)
            items = [detection(now, number * BATCH + i) for i in range(BATCH)]
            headers = {"Idempotency-Key": f"chaos-batch-{number}"}
            for attempt in range(1000):
                api = apis[(number + attempt) % len(apis)]
                try:
                    response = client.post(
                        f"{api.url}/v1/detections:batch", json={"items": items}, headers=headers
                    )
                except httpx.TransportError:
                    time.sleep(0.2)
                    continue
                if response.status_code == 207:
                    results = response.json()["results"]
                    assert all(r["status"] == 201 for r in results), results[:3]
                    accepted.extend(r["detection"]["cot_uid"] for r in results)
                    break
                assert response.status_code >= 500, response.text
                time.sleep(0.2)
            if stop.is_set():
                return


def chaos(apis: list[ApiProcess], sink: ThreadedSink, rng: random.Random) -> list[str]:
    """5 peer restarts and 2 SIGKILLs of an API process, shuffled, at random moments."""
    actions = ["restart-peer"] * 5 + ["kill-api"] * 2
    rng.shuffle(actions)
    done = []
    for action in actions:
        time.sleep(rng.uniform(0.5, 2.0))
        if action == "restart-peer":
            sink.stop()
            time.sleep(rng.uniform(0.2, 1.5))
            sink.start()
        else:
            victim = rng.choice(apis)
            victim.kill()
            time.sleep(rng.uniform(0.2, 1.0))
            victim.start()
        done.append(action)
    return done


@pytest.fixture
def sink() -> Iterator[ThreadedSink]:
    threaded = ThreadedSink(port=free_port())
    threaded.start()
    yield threaded
    threaded.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("database_url", "processes"),
    [("sqlite", 1), ("postgresql", 2)],  # SQLite is the single-node queue: one process drains it
    ids=["sqlite-one-api", "postgresql-two-apis"],
    indirect=["database_url"],
)
def test_no_detection_is_lost_through_peer_restarts_and_api_kills(
    database_url: str, sink: ThreadedSink, tmp_path: Path, processes: int
) -> None:
    env = {
        "DETECTION_API_DATABASE_URL": database_url,
        "DETECTION_API_METRICS_PORT": "0",
        "DETECTION_API_TAK_DESTINATIONS": sink.url,
        "DETECTION_API_RATE_LIMIT": "10000000/minute",
        "DETECTION_API_LOG_LEVEL": "WARNING",
        "DETECTION_API_DELIVERY_LEASE_SECONDS": "3",
        "DETECTION_API_DELIVERY_BACKOFF_MAX_SECONDS": "1",
        "DETECTION_API_DELIVERY_BATCH_SIZE": "100",
        "DETECTION_API_STALE_AFTER_SECONDS": "3600",
    }
    apis = [ApiProcess(env, tmp_path / f"api-{n}.log") for n in range(processes)]
    for api in apis:
        api.start()
    accepted: list[str] = []
    stop = threading.Event()
    poster = threading.Thread(target=post_all, args=(apis, accepted, stop), daemon=True)
    started = time.monotonic()
    poster.start()
    try:
        actions = chaos(apis, sink, random.Random(20261203 + processes))  # noqa: S311 - not crypto
        poster.join(timeout=300)
        assert not poster.is_alive(), "posting did not finish"
        assert len(accepted) == COUNT
        wait_until(lambda: set(sink.uids()) >= set(accepted), timeout=300)
    finally:
        stop.set()
        for api in apis:
            api.stop()
    elapsed = time.monotonic() - started
    arrivals = sink.uids()
    duplicates = sum(count - 1 for count in Counter(arrivals).values())
    first_seen = list(dict.fromkeys(arrivals))
    print(
        f"\nzero-loss: {COUNT} accepted, {len(set(arrivals))} delivered, {duplicates} duplicates, "
        f"chaos {actions}, {processes} API process(es), {elapsed:.1f} s"
    )
    assert set(first_seen) == set(accepted)  # nothing lost, nothing invented
    position = {uid: n for n, uid in enumerate(accepted)}
    assert [position[uid] for uid in first_seen] == sorted(position[uid] for uid in first_seen)
