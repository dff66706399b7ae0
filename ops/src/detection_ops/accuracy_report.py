"""Monte Carlo accuracy report of the geolocation engine: a PNG and a markdown table.

`python -m detection_ops.accuracy_report --out reports/accuracy` (or `uv run inv
accuracy-report`) runs the calibration grid of `detection_api.geo.montecarlo` (10,000 noisy
trials per condition by default) and writes:

- `accuracy.png`: reported and empirical CE90 versus slant range and versus depression, and the
  CE90 coverage of every condition against the 87% / 90% / 93% lines;
- `accuracy.md`: the same figures per condition, and the worst-calibrated condition.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from detection_api.geo.montecarlo import Calibration, calibrate, standard_grid

DEFAULT_TRIALS = 10_000


def worst(results: Sequence[Calibration]) -> Calibration:
    """The condition whose CE90 coverage is farthest from 90%."""
    return max(results, key=lambda result: abs(result.ce90_coverage - 0.9))


def markdown(results: Sequence[Calibration]) -> str:
    """The report's markdown: one row per condition, then the worst condition."""
    lines = [
        "# Geolocation accuracy (Monte Carlo)",
        "",
        f"{results[0].trials:,} noisy trials per condition; truth inside the reported CE90 should",
        "be 90% +/- 3% (depression >= 15 deg) and never below 87%.",
        "",
        "| condition | slant range m | empirical CE90 m | reported CE90 m (median) | "
        "reported / empirical | CE90 coverage | LE90 coverage | solved |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.condition.label} | {r.slant_range_m:,.0f} | {r.empirical_ce90_m:,.1f} | "
            f"{r.reported_ce90_median_m:,.1f} | "
            f"{r.reported_ce90_median_m / r.empirical_ce90_m:.3f} | "
            f"{r.ce90_coverage:.1%} | {r.le90_coverage:.1%} | {r.solved:,}/{r.trials:,} |"
        )
    w = worst(results)
    lines += [
        "",
        f"Worst calibration: **{w.condition.label}**, CE90 coverage {w.ce90_coverage:.1%} "
        f"(empirical CE90 {w.empirical_ce90_m:,.1f} m, reported median "
        f"{w.reported_ce90_median_m:,.1f} m).",
        "",
    ]
    return "\n".join(lines)


def plot(results: Sequence[Calibration], path: Path) -> None:
    """Three panels: CE90 vs slant range, CE90 vs depression, coverage per condition."""
    import matplotlib  # noqa: PLC0415 (plotting stays out of the import path of the toolkit)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (by_range, by_depression, coverage) = plt.subplots(1, 3, figsize=(18, 5.5))
    slant = np.array([r.slant_range_m for r in results])
    empirical = np.array([r.empirical_ce90_m for r in results])
    reported = np.array([r.reported_ce90_median_m for r in results])
    depression = np.array([r.condition.depression_deg for r in results])
    by_range.scatter(slant, empirical, marker="o", label="empirical CE90")
    by_range.scatter(slant, reported, marker="x", label="reported CE90 (median)")
    by_range.set(xscale="log", yscale="log", xlabel="slant range (m)", ylabel="CE90 (m)")
    by_range.set_title("CE90 versus slant range")
    by_range.legend()
    altitudes = sorted({r.condition.altitude_agl_m for r in results})
    for altitude in altitudes:
        rows = [i for i, r in enumerate(results) if r.condition.altitude_agl_m == altitude]
        order = sorted(rows, key=lambda i: depression[i])
        by_depression.plot(depression[order], empirical[order], "o-", label=f"{altitude:g} m AGL")
        by_depression.plot(depression[order], reported[order], "x--", color="grey")
    by_depression.set(yscale="log", xlabel="depression (deg)", ylabel="CE90 (m)")
    by_depression.set_title("CE90 versus depression (o empirical, x reported)")
    by_depression.legend(fontsize="small")
    positions = np.arange(len(results))
    coverage.bar(positions, [100 * r.ce90_coverage for r in results])
    for level, style in ((87, ":"), (90, "-"), (93, ":")):
        coverage.axhline(level, color="red", linestyle=style, linewidth=1)
    coverage.set(ylim=(80, 100), ylabel="truth inside CE90 (%)")
    coverage.set_xticks(positions, [r.condition.label for r in results], rotation=90, fontsize=6)
    coverage.set_title("Calibration coverage per condition")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def build(out: Path, trials: int = DEFAULT_TRIALS, seed: int = 20261203) -> list[Calibration]:
    """Run the grid and write `accuracy.png` and `accuracy.md` into `out`."""
    rng = np.random.default_rng(seed)
    results = [calibrate(condition, trials, rng) for condition in standard_grid()]
    out.mkdir(parents=True, exist_ok=True)
    plot(results, out / "accuracy.png")
    (out / "accuracy.md").write_text(markdown(results), encoding="utf-8")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.accuracy_report")
    parser.add_argument("--out", type=Path, default=Path("reports/accuracy"))
    parser.add_argument("--trials", type=int, default=DEFAULT_TRIALS)
    arguments = parser.parse_args(argv)
    if arguments.trials < 100:
        parser.error("--trials must be at least 100")
    results = build(arguments.out, arguments.trials)
    w = worst(results)
    print(f"wrote {arguments.out / 'accuracy.png'} and {arguments.out / 'accuracy.md'}")
    print(f"worst calibration: {w.condition.label}: CE90 coverage {w.ce90_coverage:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
