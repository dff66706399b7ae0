"""Struct-of-arrays forms of observations and solutions: what the vectorised solver works on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from detection_api.geo.accuracy import CATEGORIES, FLAGS, ce_sigma, le_sigma
from detection_api.geo.arrays import BoolArray, FloatArray, IntArray
from detection_api.geo.model import Datum, GeoConfig, Observation
from detection_api.geo.results import REFUSAL_BY_CODE, GeoInputError, Solution
from detection_api.geo.validation import validate


@dataclass(frozen=True)
class ObservationBatch:
    """N observations as arrays, each (N,) except `intrinsics` (N, 4: fx fy cx cy) and
    `distortion` (N, 5: k1 k2 k3 p1 p2). Angles in degrees; `sigmas` is (N, 7) in the order of
    `SIGMA_COLUMNS`. `terrain_given` False means: use the DEM, else the configured default plane.

    Built by `from_observations` (validated) or directly by numeric callers (benchmarks, Monte
    Carlo), for whom the solver refuses non-finite rows with `Refusal.NON_FINITE`.
    """

    pixel_x: FloatArray
    pixel_y: FloatArray
    intrinsics: FloatArray
    distortion: FloatArray
    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    alt_is_msl: BoolArray
    yaw: FloatArray
    pitch: FloatArray
    roll: FloatArray
    sigmas: FloatArray
    terrain_height: FloatArray
    terrain_is_msl: BoolArray
    terrain_given: BoolArray

    def __post_init__(self) -> None:
        size = len(self.pixel_x)
        for column in fields(self):
            value = getattr(self, column.name)
            if not isinstance(value, np.ndarray) or len(value) != size:
                raise GeoInputError(column.name, f"must be an array of length {size}")
        if self.intrinsics.shape != (size, 4) or self.distortion.shape != (size, 5):
            raise GeoInputError("intrinsics", "intrinsics must be (N, 4), distortion (N, 5)")
        if self.sigmas.shape != (size, len(SIGMA_COLUMNS)):
            raise GeoInputError("sigmas", f"must be (N, {len(SIGMA_COLUMNS)})")

    def __len__(self) -> int:
        return len(self.pixel_x)

    @classmethod
    def from_observations(
        cls, observations: Sequence[Observation], config: GeoConfig, *, validated: bool = False
    ) -> ObservationBatch:
        """Validate every observation (errors carry its index) and pack them into arrays.

        `validated=True` skips the check for callers that already ran `validate` on each one.
        """
        for index, observation in enumerate(() if validated else observations):
            try:
                validate(observation)
            except GeoInputError as error:
                raise GeoInputError(error.field, error.reason, index) from None
        return cls(**_columns(observations, config))


#: Order of the columns of `ObservationBatch.sigmas` (the field names of `Sigmas`).
SIGMA_COLUMNS = (
    "horizontal_m",
    "vertical_m",
    "yaw_deg",
    "pitch_deg",
    "roll_deg",
    "pixel",
    "terrain_m",
)


def _columns(observations: Sequence[Observation], config: GeoConfig) -> dict[str, np.ndarray]:
    def column(values: list[float]) -> FloatArray:
        return np.asarray(values, dtype=np.float64).reshape(len(observations))

    obs = observations
    no_distortion = (0.0,) * 5
    return {
        "pixel_x": column([o.pixel_x for o in obs]),
        "pixel_y": column([o.pixel_y for o in obs]),
        "intrinsics": np.array(
            [(o.camera.fx, o.camera.fy, o.camera.cx, o.camera.cy) for o in obs], dtype=np.float64
        ).reshape(len(obs), 4),
        "distortion": np.array(
            [
                tuple(getattr(o.camera.distortion, f) for f in ("k1", "k2", "k3", "p1", "p2"))
                if o.camera.distortion is not None
                else no_distortion
                for o in obs
            ],
            dtype=np.float64,
        ).reshape(len(obs), 5),
        "lat": column([o.pose.lat for o in obs]),
        "lon": column([o.pose.lon for o in obs]),
        "alt": column([o.pose.alt for o in obs]),
        "alt_is_msl": np.array([Datum(o.pose.alt_datum) is Datum.MSL for o in obs], dtype=bool),
        "yaw": column([o.pose.yaw for o in obs]),
        "pitch": column([o.pose.pitch for o in obs]),
        "roll": column([o.pose.roll for o in obs]),
        "sigmas": np.array(
            [
                [getattr(o.sigmas or config.default_sigmas, name) for name in SIGMA_COLUMNS]
                for o in obs
            ],
            dtype=np.float64,
        ).reshape(len(obs), len(SIGMA_COLUMNS)),
        "terrain_height": column(
            [o.terrain_height_m if o.terrain_height_m is not None else np.nan for o in obs]
        ),
        "terrain_is_msl": np.array([Datum(o.terrain_datum) is Datum.MSL for o in obs], bool),
        "terrain_given": np.array([o.terrain_height_m is not None for o in obs], dtype=bool),
    }


@dataclass(frozen=True)
class SolutionBatch:
    """N solutions as arrays; NaN where a value is not available (refused, or no uncertainty).

    `refusal` holds codes into `REFUSAL_BY_CODE` (0 = solved); `category` into `CATEGORIES`
    (-1 = none) and `flag` into `FLAGS`. Field meanings are those of `Solution`.
    """

    lat: FloatArray
    lon: FloatArray
    hae: FloatArray
    refusal: IntArray
    ce90_m: FloatArray
    le90_m: FloatArray
    ellipse_semi_major_m: FloatArray
    ellipse_semi_minor_m: FloatArray
    ellipse_orientation_deg: FloatArray
    category: IntArray
    flag: IntArray
    slant_range_m: FloatArray
    depression_deg: FloatArray

    def __len__(self) -> int:
        return len(self.lat)

    def solution(self, index: int) -> Solution:
        """The per-item view of row `index`."""
        row = SolutionBatch(**{f.name: getattr(self, f.name)[[index]] for f in fields(self)})
        return row.solutions()[0]

    def solutions(self) -> list[Solution]:
        """The per-item views of every row (each column converted once, not once per row)."""
        lat, lon, hae = _optional(self.lat), _optional(self.lon), _optional(self.hae)
        ce90_m, le90_m = _optional(self.ce90_m), _optional(self.le90_m)
        semi_major, semi_minor = (
            _optional(self.ellipse_semi_major_m),
            _optional(self.ellipse_semi_minor_m),
        )
        ce_sigmas = [None if value is None else ce_sigma(value) for value in ce90_m]
        le_sigmas = [None if value is None else le_sigma(value) for value in le90_m]
        orientation = _optional(self.ellipse_orientation_deg)
        slant_range, depression = _optional(self.slant_range_m), _optional(self.depression_deg)
        refusals, categories, flags = (
            self.refusal.tolist(),
            self.category.tolist(),
            self.flag.tolist(),
        )
        return [
            Solution(
                lat=lat[i],
                lon=lon[i],
                hae=hae[i],
                refusal=REFUSAL_BY_CODE[refusals[i]],
                ce90_m=ce90_m[i],
                le90_m=le90_m[i],
                ce_sigma_m=ce_sigmas[i],
                le_sigma_m=le_sigmas[i],
                ellipse_semi_major_m=semi_major[i],
                ellipse_semi_minor_m=semi_minor[i],
                ellipse_orientation_deg=orientation[i],
                category=CATEGORIES[categories[i]] if categories[i] >= 0 else None,
                flag=FLAGS[flags[i]],
                slant_range_m=slant_range[i],
                depression_deg=depression[i],
            )
            for i in range(len(self))
        ]


def _optional(column: FloatArray) -> list[float | None]:
    """Python floats, None where the value is not finite (not available)."""
    return [value if math.isfinite(value) else None for value in column.tolist()]
