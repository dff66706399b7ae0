"""The geolocation solver: observations in, positions with calibrated accuracy out (vectorised).

`solve` is a thin wrapper: it validates and packs observations into an `ObservationBatch` and
unpacks the `SolutionBatch` of `solve_batch`, so one observation is the batch case with N = 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detection_api.geo.accuracy import category_codes, flag_codes
from detection_api.geo.arrays import FloatArray, IntArray
from detection_api.geo.batch import ObservationBatch, SolutionBatch
from detection_api.geo.dem import Dem
from detection_api.geo.demcast import cast_on_dem
from detection_api.geo.model import GeoConfig, Observation
from detection_api.geo.raycast import REFINE_ITERATIONS, cast_on_height, geodetic
from detection_api.geo.rays import CastInputs, finite_rows, ray_inputs
from detection_api.geo.results import REFUSAL_CODE, Refusal, Solution
from detection_api.geo.uncertainty import Accuracy, propagate


def cast(
    rays: CastInputs,
    directions: FloatArray,
    config: GeoConfig,
    dem: Dem | None,
    *,
    refine_iterations: int = REFINE_ITERATIONS,
) -> tuple[FloatArray, IntArray]:
    """Distance along each ray to its terrain (plane or DEM) and a refusal code (0 = hit)."""
    distance = np.full(len(rays), np.nan)
    refusal = np.zeros(len(rays), dtype=np.int8)
    plane = np.flatnonzero(~rays.use_dem)
    if plane.size:
        on_plane = rays.take(plane)
        plane_distance, below = cast_on_height(
            on_plane.origin,
            directions[plane],
            camera_hae=on_plane.camera_hae,
            height=on_plane.plane_height + on_plane.terrain_offset,
            is_msl=on_plane.plane_is_msl,
            camera_lat=on_plane.camera_lat,
            camera_lon=on_plane.camera_lon,
            iterations=refine_iterations,
        )
        distance[plane] = plane_distance
        refusal[plane[np.isnan(plane_distance)]] = REFUSAL_CODE[Refusal.NO_INTERSECTION]
        refusal[plane[below]] = REFUSAL_CODE[Refusal.CAMERA_BELOW_TERRAIN]
    on_dem = np.flatnonzero(rays.use_dem)
    if on_dem.size and dem is not None:
        result = cast_on_dem(
            rays.origin[on_dem],
            directions[on_dem],
            rays.terrain_offset[on_dem],
            dem,
            step_fraction=config.dem_step_fraction,
            min_incidence_deg=config.min_incidence_deg,
        )
        distance[on_dem] = result.distance
        refusal[on_dem] = result.refusal
    distance[refusal != 0] = np.nan
    return distance, refusal


def _angle_refusals(depression: FloatArray, config: GeoConfig) -> IntArray:
    refusal = np.zeros(depression.shape, dtype=np.int8)
    refusal[depression < config.min_depression_deg] = REFUSAL_CODE[Refusal.BELOW_MIN_DEPRESSION]
    refusal[depression <= 0.0] = REFUSAL_CODE[Refusal.ABOVE_HORIZON]
    # e.g. a zero focal length in a numeric batch: no direction at all
    refusal[~np.isfinite(depression)] = REFUSAL_CODE[Refusal.NON_FINITE]
    return refusal


def _empty(size: int) -> SolutionBatch:
    def nans() -> FloatArray:
        return np.full(size, np.nan)

    return SolutionBatch(
        lat=nans(),
        lon=nans(),
        hae=nans(),
        refusal=np.full(size, REFUSAL_CODE[Refusal.NON_FINITE], dtype=np.int8),
        ce90_m=nans(),
        le90_m=nans(),
        ellipse_semi_major_m=nans(),
        ellipse_semi_minor_m=nans(),
        ellipse_orientation_deg=nans(),
        category=np.full(size, -1, dtype=np.int8),
        flag=np.full(size, 2, dtype=np.int8),
        slant_range_m=nans(),
        depression_deg=nans(),
    )


def _store_accuracy(out: SolutionBatch, rows: np.ndarray, accuracy: Accuracy) -> None:
    out.ce90_m[rows] = accuracy.ce90_m
    out.le90_m[rows] = accuracy.le90_m
    out.ellipse_semi_major_m[rows] = accuracy.semi_major_m
    out.ellipse_semi_minor_m[rows] = accuracy.semi_minor_m
    out.ellipse_orientation_deg[rows] = accuracy.orientation_deg


def solve_batch(
    batch: ObservationBatch,
    config: GeoConfig,
    dem: Dem | None = None,
    *,
    with_uncertainty: bool = True,
) -> SolutionBatch:
    """Geolocate every row of `batch`; refused rows carry a refusal code and NaN values.

    Without uncertainty the accuracy fields stay NaN and the flag is RED: an answer without an
    accuracy is not one an operator should trust.
    """
    out = _empty(len(batch))
    finite = np.flatnonzero(finite_rows(batch))
    if not finite.size:
        return out
    rays = ray_inputs(batch, config, dem is not None).take(finite)
    directions = rays.directions()
    depression = rays.depression_deg(directions)
    out.depression_deg[finite] = depression
    refusal = _angle_refusals(depression, config)
    aimed = np.flatnonzero(refusal == 0)
    distance, cast_refusal = cast(rays.cast_inputs().take(aimed), directions[aimed], config, dem)
    refusal[aimed] = cast_refusal
    solved_distance = np.full(len(rays), np.nan)
    solved_distance[aimed] = distance
    points = rays.origin + solved_distance[:, None] * directions
    lat, lon, hae = geodetic(points)
    unfinished = (refusal == 0) & ~np.isfinite(lat + lon + hae)
    refusal[unfinished] = REFUSAL_CODE[Refusal.NON_FINITE]
    if with_uncertainty:
        solved = np.flatnonzero(refusal == 0)
        accuracy = propagate(
            rays.take(solved),
            points[solved],
            lat=lat[solved],
            lon=lon[solved],
            hae=hae[solved],
            caster=cast,
            config=config,
            dem=dem,
        )
        refusal[solved[accuracy.unbounded]] = REFUSAL_CODE[Refusal.UNBOUNDED_UNCERTAINTY]
        _store_accuracy(out, finite[solved], accuracy)
    _store_position(
        out, finite, refusal=refusal, lat=lat, lon=lon, hae=hae, distance=solved_distance
    )
    _classify(out, config)
    return out


def _store_position(
    out: SolutionBatch,
    rows: np.ndarray,
    *,
    refusal: IntArray,
    lat: FloatArray,
    lon: FloatArray,
    hae: FloatArray,
    distance: FloatArray,
) -> None:
    ok = refusal == 0
    out.refusal[rows] = refusal
    out.lat[rows] = np.where(ok, lat, np.nan)
    out.lon[rows] = np.where(ok, lon, np.nan)
    out.hae[rows] = np.where(ok, hae, np.nan)
    out.slant_range_m[rows] = np.where(ok, distance, np.nan)


def _classify(out: SolutionBatch, config: GeoConfig) -> None:
    refused = out.refusal != 0
    for column in (
        out.ce90_m,
        out.le90_m,
        out.ellipse_semi_major_m,
        out.ellipse_semi_minor_m,
        out.ellipse_orientation_deg,
    ):
        column[refused] = np.nan
    known = np.isfinite(out.ce90_m)
    out.category[known] = category_codes(out.ce90_m[known])
    out.flag[:] = flag_codes(out.ce90_m, config.green_max_ce90_m, config.yellow_max_ce90_m)


def solve(
    observations: Sequence[Observation],
    config: GeoConfig,
    dem: Dem | None = None,
    *,
    with_uncertainty: bool = True,
    validated: bool = False,
) -> list[Solution]:
    """Validate and geolocate observations; raises `GeoInputError` (with index) on bad input.

    `validated=True`: each observation already passed `validate` (the API checks items one by
    one to report them one by one), so the batch is not checked twice.
    """
    batch = ObservationBatch.from_observations(observations, config, validated=validated)
    result = solve_batch(batch, config, dem, with_uncertainty=with_uncertainty)
    return result.solutions()
