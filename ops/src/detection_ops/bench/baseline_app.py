"""The ingest baseline: the least a FastAPI service can do with a detection.

It validates the body with the service's own pydantic model and does one SQLite insert and
commit per request (same WAL pragmas as the service), served by uvicorn with the same loop and
HTTP parser. No auth, no geolocation, no outbox, no audit: the service's figures divided by
these say what all of that costs on this machine.

`python -m detection_ops.bench.baseline_app --port P --database FILE`
"""

from __future__ import annotations

import argparse
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from detection_api.api.schemas import DetectionIn
from detection_api.store.database import SQLITE_PRAGMAS


def create_app(database: Path) -> FastAPI:
    local = threading.local()  # sqlite3 connections stay in the thread that opened them

    def connection() -> sqlite3.Connection:
        found: sqlite3.Connection | None = getattr(local, "connection", None)
        if found is None:
            found = sqlite3.connect(database, timeout=5.0)
            for pragma in SQLITE_PRAGMAS:
                found.execute(pragma)
            local.connection = found
        return found

    with sqlite3.connect(database) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS detections (id TEXT PRIMARY KEY, body TEXT)")
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/detections", status_code=201)
    def create_detection(body: DetectionIn) -> dict[str, str]:
        detection_id = str(uuid.uuid4())
        db = connection()
        db.execute(
            "INSERT INTO detections (id, body) VALUES (?, ?)",
            (detection_id, body.model_dump_json(by_alias=True)),
        )
        db.commit()
        return {"detection_id": detection_id}

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", type=Path, required=True)
    arguments = parser.parse_args(argv)
    uvicorn.run(
        create_app(arguments.database),
        host="127.0.0.1",
        port=arguments.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
