"""What the engine answers: a solution per observation, refusal reasons, TLE category and flag."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class GeoInputError(ValueError):
    """A field of an observation is invalid. `field` is the JSON path of the API request."""

    def __init__(self, field: str, reason: str, index: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.index = index
        where = f"observation {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {reason}")


class Refusal(StrEnum):
    """Why no position is given. The values are stable codes for API clients."""

    NON_FINITE = "non_finite"
    ABOVE_HORIZON = "above_horizon"
    BELOW_MIN_DEPRESSION = "below_min_depression"
    CAMERA_BELOW_TERRAIN = "camera_below_terrain"
    NO_INTERSECTION = "no_intersection"
    OUTSIDE_DEM = "outside_dem"
    GRAZING_INCIDENCE = "grazing_incidence"
    UNBOUNDED_UNCERTAINTY = "unbounded_uncertainty"

    @property
    def reason(self) -> str:
        """A sentence for humans explaining the refusal."""
        return _REASONS[self]


_REASONS: dict[Refusal, str] = {
    Refusal.NON_FINITE: "an input or an intermediate result is NaN or infinite",
    Refusal.ABOVE_HORIZON: "the ray through the pixel points at or above the local horizon",
    Refusal.BELOW_MIN_DEPRESSION: (
        "the ray is too flat: its depression below the horizon is under the configured minimum"
    ),
    Refusal.CAMERA_BELOW_TERRAIN: "the camera is at or below the terrain it looks at",
    Refusal.NO_INTERSECTION: "the ray passes above the Earth's surface (beyond the horizon)",
    Refusal.OUTSIDE_DEM: (
        "the ray leaves the elevation model (or meets a no-data cell) before reaching the ground"
    ),
    Refusal.GRAZING_INCIDENCE: (
        "the ray meets the terrain at a grazing angle: the hit point is ill-conditioned"
    ),
    Refusal.UNBOUNDED_UNCERTAINTY: (
        "a one-sigma attitude or position error would make the ray miss the ground"
    ),
}

#: Refusal codes as small integers in `SolutionBatch.refusal` (0 = solved).
REFUSAL_BY_CODE: tuple[Refusal | None, ...] = (None, *Refusal)
REFUSAL_CODE: dict[Refusal, int] = {refusal: code for code, refusal in enumerate(Refusal, 1)}


class Flag(StrEnum):
    """Traffic light for operators, from CE90 with configurable thresholds; RED when refused."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class Category(StrEnum):
    """Target location error category (JP 3-09.3) from CE90.

    CAT1 < 7 m, CAT2 7-15 m, CAT3 >15-30 m, CAT4 >30-91 m, CAT5 >91-305 m, CAT6 > 305 m.
    """

    CAT1 = "CAT1"
    CAT2 = "CAT2"
    CAT3 = "CAT3"
    CAT4 = "CAT4"
    CAT5 = "CAT5"
    CAT6 = "CAT6"


@dataclass(frozen=True, slots=True)
class Solution:
    """The geolocation of one observation. Position fields are None when `refusal` is set.

    lat, lon: WGS84 degrees; hae: metres above the WGS84 ellipsoid.
    ce90_m: radius of the circle around the position that holds the truth with 90% probability
    (computed exactly from the propagated, generally elliptical, 2x2 covariance).
    le90_m: 90% vertical error.
    ce_sigma_m, le_sigma_m: the 1-sigma values CoT's `ce`/`le` carry: ce90 / 2.1460 (the sigma of
    the circular Gaussian with this CE90) and le90 / 1.6449.
    ellipse_semi_major_m, ellipse_semi_minor_m: semi-axes of the 90% error ellipse
    (chi-square, 2 degrees of freedom: sqrt(4.605) sigma along each principal axis).
    ellipse_orientation_deg: direction of the semi-major axis, clockwise from true north, [0, 180).
    slant_range_m: camera to position; depression_deg: ray angle below the camera's horizon.
    """

    lat: float | None
    lon: float | None
    hae: float | None
    refusal: Refusal | None
    ce90_m: float | None
    le90_m: float | None
    ce_sigma_m: float | None
    le_sigma_m: float | None
    ellipse_semi_major_m: float | None
    ellipse_semi_minor_m: float | None
    ellipse_orientation_deg: float | None
    category: Category | None
    flag: Flag
    slant_range_m: float | None
    depression_deg: float | None
