"""`inv demo` end to end with a short flight: real service, real TAK peer on loopback."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from detection_ops.demo import main, parse
from detection_ops.demo.flight import HEIGHT, WIDTH, Flight, Loiter, targets_around


@pytest.mark.slow
def test_short_demo_delivers_every_detection_and_shows_its_accuracy(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), width=200)
    assert main(["--duration", "3", "--dir", str(tmp_path), "--show", "5"], console) == 0
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "TAK <- a-u-" in output  # the peer printed what it received
    assert "Delivered detections" in output
    [totals] = [line for line in output.splitlines() if line.startswith("posted ")]
    posted = int(totals.split()[1].rstrip(","))
    assert posted >= 4  # at least one frame with the four targets
    assert f"delivered {posted}," in totals
    assert f"the TAK peer received {posted} events" in totals
    assert (tmp_path / "demo.db").is_file()


def test_every_target_is_in_view_all_along_the_loiter() -> None:
    plan = Loiter()
    flight = Flight(plan, targets_around(plan.centre_lat, plan.centre_lon))
    lap = 2 * 3.14159 * plan.radius_m / plan.speed_m_s
    for step in range(12):
        sightings = flight.sightings(step * lap / 12, datetime.now(UTC))
        assert sorted(s.target.name for s in sightings) == [
            "boat-1",
            "car-1",
            "person-1",
            "truck-1",
        ]
        for sighting in sightings:
            assert 0 <= sighting.body["pixel"]["x"] < WIDTH
            assert 0 <= sighting.body["pixel"]["y"] < HEIGHT
            assert sighting.body["uncertainty"]["yaw_deg"] == plan.noise.yaw_deg


def test_duration_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        parse(["--duration", "0"])


@pytest.mark.slow
def test_ctrl_c_stops_the_service_and_the_peer(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "detection_ops.demo",
        "--duration",
        "120",
        "--dir",
        str(tmp_path),
    ]
    demo = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )  # fmt: skip
    try:
        assert demo.stdout is not None
        lines = iter(demo.stdout.readline, "")
        started = next(line for line in lines if line.startswith("service on "))
        next(line for line in lines if "TAK <- " in line)  # flying and delivering
        demo.send_signal(signal.SIGINT)
        rest = demo.communicate(timeout=60)[0]
    finally:
        demo.kill()
    assert demo.returncode == 130
    assert "interrupted: service and TAK peer stopped" in rest
    service_port = int(started.split()[2].rsplit(":", 1)[1])
    peer_port = int(started.split("TAK peer on ")[1].split(":")[-1])
    for port in (service_port, peer_port):
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", port), timeout=2),
        ):
            pass
