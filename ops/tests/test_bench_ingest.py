"""The ingest benchmark end to end in quick mode (a smoke test of the code paths and of the
service under concurrent load: no timing assertions), plus its pure parts."""

from __future__ import annotations

import io
import os
from pathlib import Path

import psycopg
import pytest
from rich.console import Console

from detection_ops.bench import ingest, servers
from detection_ops.bench.load import (
    WRK_MARKER,
    LoadResult,
    batch_load,
    parse_wrk,
    run_load,
    single_load,
)


def quiet_console() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.mark.slow
def test_quick_run_measures_baseline_and_service_on_sqlite() -> None:
    console = quiet_console()
    rows = ingest.run(console, quick=True, stores=("sqlite",))
    shape = [(row.target, row.result.load.items, row.result.load.connections) for row in rows]
    assert shape == [
        ("baseline", 1, 1), ("baseline", 1, 4), ("baseline", 1, 16), ("baseline", 1, 64),
        ("sqlite", 1, 1), ("sqlite", 1, 16), ("sqlite", 1, 64), ("sqlite", 100, 4),
    ]  # fmt: skip
    for row in rows:
        result = row.result
        assert result.errors == 0, row  # no refusals, timeouts or 5xx, even at 64 connections
        assert result.requests > 0
        assert result.stored == result.requests * result.load.items
        assert 0 < result.p50_ms <= result.p99_ms
        assert (row.ratio is None) == (row.target == "baseline")
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "x base" in output
    assert "sqlite" in output
    assert "batch" in output


def test_httpx_fallback_counts_every_stored_detection(tmp_path: Path) -> None:
    with servers.service(servers.sqlite_url(tmp_path), tmp_path) as server:
        single = run_load(server.url, single_load(4, 0.5), "httpx", tmp_path)
        batch = run_load(server.url, batch_load(10, 2, 0.5), "httpx", tmp_path)
    assert single.generator == batch.generator == "httpx"
    assert single.errors == batch.errors == 0
    assert single.stored == single.requests > 0
    assert batch.stored == 10 * batch.requests > 0


def test_refused_batch_items_and_bad_answers_count_as_errors() -> None:
    load = batch_load(100, 4, 1.0)
    line = WRK_MARKER + (
        '{"requests":10,"duration_us":2000000,"connect":0,"read":1,"write":0,"timeout":0,"status":2,'
        '"p50_us":1500,"p99_us":9000,"stored_items":790}'
    )
    result = parse_wrk(line, load)
    assert result.stored == 790
    assert result.errors == 1 + 2 + 10  # socket, non-2xx answers, items refused inside 207s
    assert result.error_kinds == {"read": 1, "status": 2, "refused items": 10}
    assert result.detections_per_second == 395.0
    assert (result.p50_ms, result.p99_ms) == (1.5, 9.0)


def result(
    load_items: int, connections: int, stored: int, p99_ms: float, errors: int = 0
) -> LoadResult:
    load = (
        single_load(connections, 1.0)
        if load_items == 1
        else batch_load(load_items, connections, 1.0)
    )
    return LoadResult(load, "wrk", stored // load_items, stored, 1.0, 1.0, p99_ms, errors, "0 0 0")


def test_floors_apply_to_the_service_on_sqlite_only() -> None:
    assert ingest.Row("sqlite", result(1, 16, 1_200, 40.0), None).floor.startswith("met")
    assert ingest.Row("sqlite", result(1, 16, 1_200, 60.0), None).floor.startswith("MISSED")
    assert ingest.Row("sqlite", result(1, 16, 900, 10.0), None).floor.startswith("MISSED")
    assert ingest.Row("sqlite", result(1, 64, 10, 900.0), None).floor.startswith("met")
    assert ingest.Row("sqlite", result(1, 64, 10, 9.0, errors=1), None).floor.startswith("MISSED")
    assert ingest.Row("sqlite", result(100, 4, 5_000, 90.0), None).floor.startswith("met")
    assert ingest.Row("sqlite", result(100, 4, 4_900, 90.0), None).floor.startswith("MISSED")
    assert ingest.Row("postgresql", result(1, 16, 10, 900.0), None).floor == ""
    assert ingest.Row("sqlite", result(1, 1, 10, 900.0), None).floor == ""


def test_a_fresh_postgresql_database_is_created_and_dropped() -> None:
    if problem := servers.postgres_reachable():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(problem)
        pytest.skip(problem)
    with servers.postgres_database() as url:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.replace("+psycopg", "")) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == (name,)
    with psycopg.connect(servers.POSTGRES_URL.replace("+psycopg", "")) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        assert found.fetchone() is None
