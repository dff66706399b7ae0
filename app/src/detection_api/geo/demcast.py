"""Ray marching through a DEM, with bisection refinement of the first terrain crossing.

Each ray is marched from where it descends below the DEM's highest post to where it passes its
lowest one, in steps of `step_fraction` of the post spacing. The first sample at or below the
terrain brackets the hit, which bisection narrows to a millimetre. Conservative refusals: a
sample within that height band but outside the model (or on no-data) means unknown terrain
could have been hit first, so the ray is refused as OUTSIDE_DEM rather than answered wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection_api.geo.arrays import FloatArray, IntArray
from detection_api.geo.dem import Dem
from detection_api.geo.frames import enu_axes
from detection_api.geo.raycast import geodetic, raised_ellipsoid_hit
from detection_api.geo.results import REFUSAL_CODE, Refusal

#: Exact geodetic conversions every KNOT_SPACING samples of the march, linear in between: the
#: geodetic coordinates of a straight ECEF segment bend by ~L^2 / 8R, < 0.1 mm over 60 m.
KNOT_SPACING = 8
#: Samples per ray in the first vectorised block of the march; blocks then double up to the
#: maximum, and shrink when many rays are active so one block stays under MAX_BLOCK_SAMPLES.
FIRST_BLOCK = 16
MAX_BLOCK = 256
MAX_BLOCK_SAMPLES = 1_000_000
#: Upper bound on samples per ray; longer rays are refused as OUTSIDE_DEM (explicit limit).
MAX_MARCH_STEPS = 200_000
#: Bisection narrows the bracket (one march step) to this length along the ray, metres.
BISECTION_TOLERANCE_M = 1e-4
#: Height band margin (m) around the DEM's range, so the march brackets crossings at its edges.
BAND_MARGIN_M = 1.0


@dataclass(frozen=True)
class DemCast:
    """Result of `cast_on_dem`: distance along each ray (NaN when refused) and refusal codes."""

    distance: FloatArray
    refusal: IntArray


def _band(origin: FloatArray, direction: FloatArray, dem: Dem) -> tuple[FloatArray, FloatArray]:
    """Distances where each ray enters the DEM's height band (top) and leaves it (bottom)."""
    low, high = dem.height_range_hae
    size = len(origin)
    start, camera_inside = raised_ellipsoid_hit(origin, direction, np.full(size, high + 1.0))
    start = np.where(camera_inside, 0.0, start)
    end, _ = raised_ellipsoid_hit(origin, direction, np.full(size, low - BAND_MARGIN_M))
    # A ray that never gets down to the lowest post ends where it is closest to the Earth.
    closest = -np.sum(origin * direction, -1)
    return start, np.where(np.isnan(end), closest, end)


def _terrain_gap(dem: Dem, points: FloatArray, offset: FloatArray) -> FloatArray:
    """Ray height minus terrain height at each point; NaN where the DEM does not cover it."""
    lat, lon, hae = geodetic(points)
    gap: FloatArray = hae - (dem.hae_at(lat, lon) + offset)
    return gap


def _gap_along(
    dem: Dem,
    origin: FloatArray,
    direction: FloatArray,
    distance: FloatArray,
    offset: FloatArray,
) -> FloatArray:
    """Ray height minus terrain at (rows, samples) distances evenly spaced along each ray."""
    rows, samples = distance.shape
    spacing = min(KNOT_SPACING, samples)
    knots = np.arange(0, samples + spacing, spacing)  # one knot at or beyond the last sample
    step = distance[:, 1:2] - distance[:, :1] if samples > 1 else np.zeros((rows, 1))
    knot_distance = distance[:, :1] + knots * step
    points = origin[:, None, :] + knot_distance[..., None] * direction[:, None, :]
    lat, lon, hae = (c.reshape(rows, -1) for c in geodetic(points.reshape(-1, 3)))
    lon = np.degrees(np.unwrap(np.radians(lon), axis=1))
    column = np.arange(samples)
    left, fraction = column // spacing, (column % spacing) / spacing

    def between(values: FloatArray) -> FloatArray:
        result: FloatArray = values[:, left] * (1.0 - fraction) + values[:, left + 1] * fraction
        return result

    sample_lon = np.mod(between(lon) + 180.0, 360.0) - 180.0
    terrain = dem.hae_at(between(lat), sample_lon) + offset[:, None]
    gap: FloatArray = between(hae) - terrain
    return gap


def _march(
    origin: FloatArray,
    direction: FloatArray,
    offset: FloatArray,
    dem: Dem,
    step: float,
) -> tuple[FloatArray, IntArray]:
    """Distance of the first sample at or below the terrain, or a refusal code per ray."""
    start, end = _band(origin, direction, dem)
    hit = np.full(len(origin), np.nan)
    refusal = np.zeros(len(origin), dtype=np.int8)
    refusal[np.isnan(start)] = REFUSAL_CODE[Refusal.NO_INTERSECTION]
    refusal[(end - start) / step > MAX_MARCH_STEPS] = REFUSAL_CODE[Refusal.OUTSIDE_DEM]
    active = np.flatnonzero(refusal == 0)
    marched = np.zeros(len(origin))  # distance already marched past `start`, per ray
    block = FIRST_BLOCK
    while active.size:
        size = max(1, min(block, MAX_BLOCK_SAMPLES // active.size))
        rows = active[: max(1, MAX_BLOCK_SAMPLES // size)]
        distance = (start[rows] + marched[rows])[:, None] + np.arange(size) * step
        gap = _gap_along(dem, origin[rows], direction[rows], distance, offset[rows])
        past_end = distance > end[rows, None] + step
        event = (gap <= 0.0) | np.isnan(gap) | past_end
        found = event.any(axis=1)
        first = np.argmax(event, axis=1)[found]
        done = rows[found]
        beyond = past_end[found, first]
        outside = ~beyond & np.isnan(gap[found, first])
        refusal[done[beyond]] = REFUSAL_CODE[Refusal.NO_INTERSECTION]
        refusal[done[outside]] = REFUSAL_CODE[Refusal.OUTSIDE_DEM]
        landed = ~beyond & ~outside
        hit[done[landed]] = distance[found, first][landed]
        marched[rows[~found]] += size * step
        active = np.setdiff1d(active, done, assume_unique=True)
        block = min(2 * block, MAX_BLOCK)
    return hit, refusal


def _bisect(
    origin: FloatArray,
    direction: FloatArray,
    offset: FloatArray,
    dem: Dem,
    *,
    below: FloatArray,
    step: float,
) -> FloatArray:
    """Narrow [below - step, below] to the terrain crossing (to BISECTION_TOLERANCE_M)."""
    above = np.maximum(below - step, 0.0)
    for _ in range(max(1, int(np.ceil(np.log2(step / BISECTION_TOLERANCE_M))))):
        middle = 0.5 * (above + below)
        gap = _terrain_gap(dem, origin + middle[:, None] * direction, offset)
        under = ~(gap > 0.0)
        below = np.where(under, middle, below)
        above = np.where(under, above, middle)
    return 0.5 * (above + below)


def _incidence_deg(dem: Dem, points: FloatArray, direction: FloatArray) -> FloatArray:
    """Angle between each ray and the terrain surface at its hit point."""
    lat, lon, _ = geodetic(points)
    slope_east, slope_north = dem.slope_at(lat, lon)
    east, north, up = enu_axes(lat, lon)
    normal = -slope_east[:, None] * east - slope_north[:, None] * north + up
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    sine = np.abs(np.sum(normal * direction, -1))
    return np.degrees(np.arcsin(np.clip(sine, 0.0, 1.0)))


def cast_on_dem(
    origin: FloatArray,
    direction: FloatArray,
    offset: FloatArray,
    dem: Dem,
    *,
    step_fraction: float,
    min_incidence_deg: float,
) -> DemCast:
    """Cast unit rays onto the DEM raised by `offset` metres; refuse misses, grazes and gaps."""
    step = step_fraction * dem.post_spacing_m
    hit, refusal = _march(origin, direction, offset, dem, step)
    landed = np.flatnonzero(refusal == 0)
    first_gap = _terrain_gap(dem, origin[landed], offset[landed])
    camera_under = ~(first_gap > 0.0) & (hit[landed] <= 0.0)
    refusal[landed[camera_under]] = REFUSAL_CODE[Refusal.CAMERA_BELOW_TERRAIN]
    landed = np.flatnonzero(refusal == 0)
    if landed.size:
        sub_origin, sub_direction = origin[landed], direction[landed]
        distance = _bisect(
            sub_origin, sub_direction, offset[landed], dem, below=hit[landed], step=step
        )
        hit[landed] = distance
        points = sub_origin + distance[:, None] * sub_direction
        grazing = _incidence_deg(dem, points, sub_direction) < min_incidence_deg
        refusal[landed[grazing]] = REFUSAL_CODE[Refusal.GRAZING_INCIDENCE]
    hit[refusal != 0] = np.nan
    return DemCast(hit, refusal)
