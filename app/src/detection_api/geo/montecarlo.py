"""Monte Carlo calibration of the reported accuracy against synthetic truth.

For one viewing condition, the exact observation of a known target is perturbed with errors
drawn from the stated sigmas, every noisy observation is solved with uncertainty in one batch,
and the fraction of trials whose true point lies inside the reported CE90 (and LE90) is counted.
Used by the calibration tests and by the accuracy report (`inv accuracy-report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymap3d

from detection_api.geo.arrays import BoolArray, FloatArray
from detection_api.geo.batch import ObservationBatch, SolutionBatch
from detection_api.geo.model import GeoConfig, Sigmas
from detection_api.geo.solver import solve_batch
from detection_api.geo.synthetic import Scenes, SceneSpec, add_noise, make_scenes, select


@dataclass(frozen=True)
class Condition:
    """One viewing geometry; the target is on terrain `terrain_msl` m above the geoid."""

    altitude_agl_m: float
    depression_deg: float
    azimuth_deg: float = 30.0
    roll_deg: float = 0.0
    pixel_fraction: tuple[float, float] = (0.5, 0.5)
    lat: float = 45.0
    lon: float = 7.0
    terrain_msl: float = 200.0
    k1: float = 0.0
    sigmas: Sigmas = field(default_factory=Sigmas)

    @property
    def label(self) -> str:
        extras = []
        if self.roll_deg:
            extras.append(f"roll {self.roll_deg:g}")
        if self.pixel_fraction != (0.5, 0.5):
            extras.append("off-centre pixel")
        if self.k1:
            extras.append(f"k1 {self.k1:g}")
        if self.lat != 45.0:
            extras.append(f"lat {self.lat:g}")
        if self.sigmas != Sigmas():
            extras.append("custom sigmas")
        suffix = f" ({', '.join(extras)})" if extras else ""
        return f"{self.altitude_agl_m:g} m AGL, {self.depression_deg:g} deg{suffix}"

    def spec(self) -> SceneSpec:
        def one(value: float) -> np.ndarray:
            return np.array([value])

        return SceneSpec(
            target_lat=one(self.lat),
            target_lon=one(self.lon),
            terrain_height=one(self.terrain_msl),
            terrain_is_msl=np.array([True]),
            altitude_agl=one(self.altitude_agl_m),
            depression_deg=one(self.depression_deg),
            azimuth_deg=one(self.azimuth_deg),
            roll_deg=one(self.roll_deg),
            alt_is_msl=np.array([True]),
            distortion=np.array([[self.k1, 0.0, 0.0, 0.0, 0.0]]),
            pixel_fraction=np.array([self.pixel_fraction]),
        )


@dataclass(frozen=True)
class Calibration:
    """Outcome of `calibrate` for one condition (metres, fractions in 0..1)."""

    condition: Condition
    trials: int
    solved: int
    ce90_coverage: float
    le90_coverage: float
    empirical_ce90_m: float
    reported_ce90_median_m: float
    slant_range_m: float


def errors_from_truth(
    result: SolutionBatch, scenes: Scenes, row: int = 0
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Horizontal and vertical errors of the solved rows against target `row`, and the mask."""
    solved = result.refusal == 0
    east, north, up = pymap3d.geodetic2enu(
        result.lat[solved],
        result.lon[solved],
        result.hae[solved],
        scenes.target_lat[row],
        scenes.target_lon[row],
        scenes.target_hae[row],
    )
    return np.hypot(east, north), np.asarray(up), solved


def noisy_trials(scenes: Scenes, trials: int, rng: np.random.Generator) -> ObservationBatch:
    """`trials` noisy copies of the first observation of `scenes`."""
    return add_noise(select(scenes.batch, np.zeros(trials, dtype=np.intp)), rng)


def calibrate(
    condition: Condition, trials: int, rng: np.random.Generator, config: GeoConfig | None = None
) -> Calibration:
    """Run `trials` noisy observations of the condition and compare errors with CE90/LE90."""
    scenes = make_scenes(condition.spec(), condition.sigmas)
    if not len(scenes.batch):
        raise ValueError(f"{condition.label}: no camera attitude sees the target")
    result = solve_batch(noisy_trials(scenes, trials, rng), config or GeoConfig())
    horizontal, up, solved = errors_from_truth(result, scenes)
    exact = solve_batch(scenes.batch, config or GeoConfig(), with_uncertainty=False)
    return Calibration(
        condition=condition,
        trials=trials,
        solved=int(solved.sum()),
        ce90_coverage=float(np.mean(horizontal <= result.ce90_m[solved])),
        le90_coverage=float(np.mean(np.abs(up) <= result.le90_m[solved])),
        empirical_ce90_m=float(np.percentile(horizontal, 90.0)),
        reported_ce90_median_m=float(np.median(result.ce90_m[solved])),
        slant_range_m=float(exact.slant_range_m[0]),
    )


def standard_grid() -> list[Condition]:
    """The calibration grid: altitudes x depressions, plus off-nominal geometries."""
    grid = [
        Condition(altitude, depression)
        for altitude in (30.0, 120.0, 500.0, 3000.0)
        for depression in (5.0, 10.0, 15.0, 30.0, 45.0, 70.0, 90.0)
    ]
    grid += [
        Condition(120.0, 20.0, roll_deg=25.0, pixel_fraction=(0.15, 0.8)),
        Condition(300.0, 35.0, azimuth_deg=250.0, pixel_fraction=(0.85, 0.2), k1=-0.25),
        Condition(1000.0, 8.0, lat=78.0, roll_deg=-20.0),
        Condition(60.0, 60.0, sigmas=Sigmas(yaw_deg=10.0, pixel=8.0)),
    ]
    return grid
