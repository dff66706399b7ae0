"""The benchmark dispatcher and the geolocation benchmark (quick mode: a smoke test of the table,
not a timing assertion)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from detection_ops.bench import BENCHMARKS, main, parse
from detection_ops.bench.geo import BATCH_SIZES, rate, run


def test_every_benchmark_has_a_flag() -> None:
    arguments = parse(["--geo", "--quick"])
    assert arguments.geo
    assert arguments.quick
    assert set(BENCHMARKS) >= {"geo"}


def test_unknown_flag_is_rejected() -> None:
    with pytest.raises(SystemExit):
        parse(["--nope"])


def test_geo_benchmark_measures_every_batch_size_both_ways() -> None:
    console = Console(file=io.StringIO(), width=120)
    measurements = run(console, quick=True)
    assert [(m.batch_size, m.with_uncertainty) for m in measurements] == [
        (size, uncertainty) for size in BATCH_SIZES for uncertainty in (False, True)
    ]
    assert all(m.rays_per_second > 0 and m.baseline_rays_per_second > 0 for m in measurements)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "numpy plane" in output
    assert "10,000" in output


def test_main_runs_the_selected_benchmark() -> None:
    console = Console(file=io.StringIO(), width=120)
    assert main(["--geo", "--quick"], console) == 0
    assert "Geolocation engine throughput" in console.file.getvalue()  # type: ignore[attr-defined]


def test_rate_formatting() -> None:
    assert rate(1234.0) == "1,234"
    assert rate(56_700.0) == "56.7k"
    assert rate(185_700_000.0) == "185.7M"
