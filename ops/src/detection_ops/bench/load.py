"""Closed-loop HTTP load at a fixed number of connections: wrk when installed, else asyncio httpx.

wrk is a C load generator: on a 2-core machine it leaves the CPU to the server under test, so
it is preferred. The httpx fallback runs in this Python process and competes with the server
for the same cores; its figures are lower bounds, and every result names its generator.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np

from detection_api.api.examples import example_detection
from detection_ops.bench.servers import AUTH, load_average

Generator = Literal["wrk", "httpx"]
WRK_MARKER = "WRK_RESULT "
WRK_INSTALL = (
    "apt-get install wrk (Debian/Ubuntu), brew install wrk, or `uv run inv tools --with bench`"
)


@dataclass(frozen=True)
class Load:
    """What to send: `items` detections per request (1 = the single endpoint)."""

    path: str
    body: bytes
    items: int
    connections: int
    seconds: float


@dataclass(frozen=True)
class LoadResult:
    load: Load
    generator: Generator
    requests: int
    stored: int  # detections the server answered as stored (201 or a 201 item)
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # failed requests: socket errors, timeouts, non-2xx answers, refused batch items
    load_average: str
    error_kinds: dict[str, int] = field(default_factory=dict)  # the errors by kind

    @property
    def detections_per_second(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0


def detection() -> dict[str, Any]:
    """The service's example detection, captured now (the delivery worker drops stale ones)."""
    return example_detection(source="bench-drone")


def single_load(connections: int, seconds: float) -> Load:
    body = json.dumps(detection()).encode()
    return Load("/v1/detections", body, 1, connections, seconds)


def batch_load(items: int, connections: int, seconds: float) -> Load:
    body = json.dumps({"items": [detection() for _ in range(items)]}).encode()
    return Load("/v1/detections:batch", body, items, connections, seconds)


def pick_generator(wanted: str = "auto") -> Generator:
    if wanted == "httpx" or (wanted == "auto" and shutil.which("wrk") is None):
        return "httpx"
    if shutil.which("wrk") is None:
        raise FileNotFoundError(f"wrk not found: {WRK_INSTALL}")
    return "wrk"


def run_load(url: str, load: Load, generator: Generator, workdir: Path) -> LoadResult:
    if generator == "wrk":
        return _run_wrk(url, load, workdir)
    return asyncio.run(_run_httpx(url, load))


# --- wrk -----------------------------------------------------------------------------------------

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(headers)s
wrk.body = [==[%(body)s]==]
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) stored_items = 0 end
%(response)s
function done(summary, latency, requests)
  local items = 0
  for _, thread in ipairs(threads) do items = items + (thread:get("stored_items") or 0) end
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"timeout":%%d,"status":%%d,"p50_us":%%d,"p99_us":%%d,"stored_items":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), items))
end
"""
# Batch answers are 207 whatever each item's fate: count the stored items in each answer body.
_WRK_COUNT_ITEMS = """
function response(status, headers, body)
  local _, found = body:gsub('"status":201', '')
  stored_items = stored_items + found
end
"""


def _wrk_script(load: Load) -> str:
    headers = "\n".join(f'wrk.headers["{name}"] = "{value}"' for name, value in AUTH.items())
    return _WRK_SCRIPT % {
        "headers": headers,
        "body": load.body.decode(),
        "response": _WRK_COUNT_ITEMS if load.items > 1 else "",
        "marker": WRK_MARKER,
    }


def _run_wrk(url: str, load: Load, workdir: Path) -> LoadResult:
    script = workdir / f"wrk-{load.items}.lua"
    script.write_text(_wrk_script(load))
    command = [
        "wrk", "-t1", f"-c{load.connections}", f"-d{max(1, round(load.seconds))}s",
        "--timeout", "10s", "-s", str(script), url + load.path,
    ]  # fmt: skip
    # One wrk thread drives up to thousands of requests/s and leaves the cores to the server.
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(WRK_MARKER)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    return parse_wrk(line, load)


def parse_wrk(line: str, load: Load) -> LoadResult:
    """The result line our Lua `done()` prints: counts, duration and latency in microseconds."""
    found = json.loads(line.removeprefix(WRK_MARKER))
    requests, status_errors = int(found["requests"]), int(found["status"])
    ok_requests = requests - status_errors
    stored = int(found["stored_items"]) if load.items > 1 else ok_requests
    kinds = {kind: int(found[kind]) for kind in ("connect", "read", "write", "timeout", "status")}
    kinds["refused items"] = ok_requests * load.items - stored if load.items > 1 else 0
    return LoadResult(
        load=load,
        generator="wrk",
        requests=requests,
        stored=stored,
        seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1e3,
        p99_ms=found["p99_us"] / 1e3,
        errors=sum(kinds.values()),
        load_average=load_average(),
        error_kinds={kind: count for kind, count in kinds.items() if count},
    )


# --- asyncio httpx fallback ----------------------------------------------------------------------


async def _run_httpx(url: str, load: Load) -> LoadResult:
    latencies: list[float] = []
    counts = {"requests": 0, "stored": 0}
    kinds = {"exception": 0, "status": 0, "refused items": 0}
    headers = {**AUTH, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=load.connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0) as client:
        start = time.perf_counter()
        end = start + load.seconds

        async def connection() -> None:
            while time.perf_counter() < end:
                sent = time.perf_counter()
                counts["requests"] += 1
                try:
                    answer = await client.post(load.path, content=load.body, headers=headers)
                except httpx.HTTPError:
                    kinds["exception"] += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                stored = _stored_items(answer, load.items)
                counts["stored"] += stored
                if answer.status_code not in {201, 207}:
                    kinds["status"] += 1
                elif load.items > 1:
                    kinds["refused items"] += load.items - stored

        await asyncio.gather(*(connection() for _ in range(load.connections)))
        elapsed = time.perf_counter() - start
    p50, p99 = np.percentile(latencies, [50, 99]) if latencies else (0.0, 0.0)
    return LoadResult(
        load=load,
        generator="httpx",
        requests=counts["requests"],
        stored=counts["stored"],
        seconds=elapsed,
        p50_ms=float(p50) * 1e3,
        p99_ms=float(p99) * 1e3,
        errors=sum(kinds.values()),
        load_average=load_average(),
        error_kinds={kind: count for kind, count in kinds.items() if count},
    )


def _stored_items(answer: httpx.Response, items: int) -> int:
    if items == 1:
        return 1 if answer.status_code == 201 else 0
    if answer.status_code != 207:
        return 0
    return sum(1 for result in answer.json()["results"] if result["status"] == 201)
