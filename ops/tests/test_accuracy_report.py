"""The accuracy report writes a real PNG and a markdown table naming the worst condition."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection_api.geo.montecarlo import Calibration, Condition
from detection_ops.accuracy_report import main, markdown, worst


def test_report_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "accuracy"
    assert main(["--out", str(out), "--trials", "300"]) == 0
    png = (out / "accuracy.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 20_000
    table = (out / "accuracy.md").read_text(encoding="utf-8")
    assert table.count("\n| ") >= 30  # header + one row per grid condition
    assert "Worst calibration:" in table
    printed = capsys.readouterr().out
    print(printed)
    assert "worst calibration:" in printed


def test_too_few_trials_is_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--out", "unused", "--trials", "5"])


def test_worst_is_the_farthest_from_ninety_percent() -> None:
    def result(coverage: float) -> Calibration:
        return Calibration(Condition(100.0, 45.0), 100, 100, coverage, 0.9, 10.0, 10.0, 141.0)

    results = [result(0.91), result(0.875), result(0.92)]
    assert worst(results).ce90_coverage == 0.875
    assert "87.5%" in markdown(results)
