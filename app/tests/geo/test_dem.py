"""DEM ray casting against synthetic GeoTIFFs whose surfaces are known analytically.

Both surfaces are piecewise linear in latitude/longitude with their kinks on grid lines, so the
DEM's bilinear interpolation represents them exactly and a hit on the analytic surface is the
truth. Targets are placed on the surface, the exact camera pose and pixel that see them are
built, and the solver must land within half a DEM post.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pymap3d
import pytest
import rasterio
from rasterio.transform import from_origin

from detection_api.geo import (
    SIGMA_COLUMNS,
    Datum,
    Dem,
    DemFileError,
    GeoConfig,
    Refusal,
    load_dem,
    solve_batch,
)
from detection_api.geo.datum import undulation
from detection_api.geo.montecarlo import errors_from_truth, noisy_trials
from detection_api.geo.synthetic import Scenes, SceneSpec, make_scenes

LAT_NORTH, LON_WEST, POST_DEG = 46.05, 7.0, 0.0002
ROWS, COLS = 251, 301
RIDGE_LON, RIDGE_HALF_WIDTH_DEG, RIDGE_HEIGHT = 7.03, 0.0134, 600.0
BASE = 500.0


def slope_surface(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return BASE + 10_000.0 * (lon - LON_WEST) + 3_000.0 * (LAT_NORTH - lat)


def ridge_surface(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    rise = RIDGE_HEIGHT * (1.0 - np.abs(lon - RIDGE_LON) / RIDGE_HALF_WIDTH_DEG)
    return BASE + np.maximum(rise, 0.0) + 0.0 * lat


def grid() -> tuple[np.ndarray, np.ndarray]:
    lats = LAT_NORTH - POST_DEG * np.arange(ROWS)
    lons = LON_WEST + POST_DEG * np.arange(COLS)
    return np.meshgrid(lats, lons, indexing="ij")


def write_geotiff(path: Path, heights: np.ndarray, nodata: float | None = None) -> Path:
    transform = from_origin(LON_WEST - POST_DEG / 2, LAT_NORTH + POST_DEG / 2, POST_DEG, POST_DEG)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=ROWS,
        width=COLS,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=transform,
        nodata=nodata,
    ) as target:
        target.write(heights.astype(np.float32), 1)
    return path


@pytest.fixture(scope="module")
def ridge_dem(tmp_path_factory: pytest.TempPathFactory) -> Dem:
    lat, lon = grid()
    path = write_geotiff(tmp_path_factory.mktemp("dem") / "ridge.tif", ridge_surface(lat, lon))
    return load_dem(path, datum=Datum.HAE)


@pytest.fixture(scope="module")
def slope_dem(tmp_path_factory: pytest.TempPathFactory) -> Dem:
    lat, lon = grid()
    path = write_geotiff(tmp_path_factory.mktemp("dem") / "slope.tif", slope_surface(lat, lon))
    return load_dem(path, datum=Datum.HAE)


def scenes_on(surface, lat, lon, *, depression, azimuth, agl) -> Scenes:  # type: ignore[no-untyped-def]
    size = len(lat)
    spec = SceneSpec(
        target_lat=lat,
        target_lon=lon,
        terrain_height=surface(lat, lon),
        terrain_is_msl=np.zeros(size, dtype=bool),
        altitude_agl=agl,
        depression_deg=depression,
        azimuth_deg=azimuth,
        roll_deg=np.zeros(size),
        alt_is_msl=np.ones(size, dtype=bool),
        distortion=np.zeros((size, 5)),
        pixel_fraction=np.full((size, 2), 0.5),
    )
    scenes = make_scenes(spec)
    on_dem = replace(scenes.batch, terrain_given=np.zeros(len(scenes.batch), dtype=bool))
    return replace(scenes, batch=on_dem)


def horizontal_error(scenes: Scenes, result) -> np.ndarray:  # type: ignore[no-untyped-def]
    east, north, up = pymap3d.geodetic2enu(
        result.lat,
        result.lon,
        result.hae,
        scenes.target_lat,
        scenes.target_lon,
        scenes.target_hae,
    )
    return np.sqrt(east**2 + north**2 + up**2)


def test_slope_hits_are_within_half_a_post(slope_dem: Dem) -> None:
    rng = np.random.default_rng(1)
    size = 300
    scenes = scenes_on(
        slope_surface,
        rng.uniform(46.015, 46.035, size),
        rng.uniform(7.02, 7.04, size),
        depression=rng.uniform(20.0, 90.0, size),
        azimuth=rng.uniform(0.0, 360.0, size),
        agl=rng.uniform(50, 400, size),
    )
    result = solve_batch(scenes.batch, GeoConfig(), slope_dem)
    assert (result.refusal == 0).all()
    assert horizontal_error(scenes, result).max() < 0.5 * slope_dem.post_spacing_m
    assert np.isfinite(result.ce90_m).all()


@pytest.mark.parametrize(("side", "azimuth"), [(-1.0, 270.0), (1.0, 90.0)])
def test_ridge_flanks_facing_the_camera(ridge_dem: Dem, side: float, azimuth: float) -> None:
    rng = np.random.default_rng(2)
    size = 200
    lon = RIDGE_LON + side * rng.uniform(0.001, 0.0125, size)
    scenes = scenes_on(
        ridge_surface,
        rng.uniform(46.01, 46.04, size),
        lon,
        depression=rng.uniform(25.0, 80.0, size),
        azimuth=azimuth + rng.uniform(-40.0, 40.0, size),
        agl=rng.uniform(100.0, 600.0, size),  # keeps every camera over the tile
    )
    result = solve_batch(scenes.batch, GeoConfig(), ridge_dem, with_uncertainty=False)
    assert (result.refusal == 0).all()
    assert horizontal_error(scenes, result).max() < 0.5 * ridge_dem.post_spacing_m


def test_msl_dem_is_converted_to_hae(tmp_path: Path, slope_dem: Dem) -> None:
    lat, lon = grid()
    msl = slope_surface(lat, lon) - undulation(lat, lon)
    dem = load_dem(write_geotiff(tmp_path / "msl.tif", msl), datum=Datum.MSL)
    assert dem.source_datum is Datum.MSL
    # float32 storage rounds heights to ~0.1 mm at these magnitudes
    assert np.nanmax(np.abs(dem.heights_hae - slope_dem.heights_hae)) < 1e-3


def one_ray(
    dem: Dem, lat: float, lon: float, *, alt_hae: float, yaw: float, pitch: float
) -> Refusal | None:
    scenes = scenes_on(
        ridge_surface,
        np.array([46.02]),
        np.array([7.01]),
        depression=np.array([45.0]),
        azimuth=np.array([0.0]),
        agl=np.array([100.0]),
    )
    batch = replace(
        scenes.batch,
        lat=np.array([lat]),
        lon=np.array([lon]),
        alt=np.array([alt_hae]),
        alt_is_msl=np.zeros(1, dtype=bool),
        yaw=np.array([yaw]),
        pitch=np.array([pitch]),
        roll=np.zeros(1),
    )
    result = solve_batch(batch, GeoConfig(), dem, with_uncertainty=False)
    return result.solution(0).refusal


def test_ray_leaving_the_dem_is_refused(ridge_dem: Dem) -> None:
    # 5 deg down from 100 m above the plain, heading north: it leaves the 5.5 km tile first.
    assert (
        one_ray(ridge_dem, 46.04, 7.005, alt_hae=BASE + 100.0, yaw=0.0, pitch=-5.0)
        is Refusal.OUTSIDE_DEM
    )


def test_ray_grazing_the_far_flank_is_refused(ridge_dem: Dem) -> None:
    # The east flank falls at 30.07 deg; a ray heading east 31 deg down, clearing the crest by
    # 5 m, meets it at about 1 deg: ill-conditioned, refused.
    crest_clearance = 5.0
    back = 300.0  # metres west of the crest
    lat = 46.025
    lon = RIDGE_LON - back / (111_320.0 * np.cos(np.radians(lat)))
    height = BASE + RIDGE_HEIGHT + crest_clearance + back * np.tan(np.radians(31.0))
    assert (
        one_ray(ridge_dem, lat, lon, alt_hae=height, yaw=90.0, pitch=-31.0)
        is Refusal.GRAZING_INCIDENCE
    )


def test_camera_inside_the_ridge_is_refused(ridge_dem: Dem) -> None:
    refusal = one_ray(
        ridge_dem, 46.02, RIDGE_LON, alt_hae=BASE + RIDGE_HEIGHT - 50.0, yaw=90.0, pitch=-45.0
    )
    assert refusal is Refusal.CAMERA_BELOW_TERRAIN


def test_no_data_hole_is_refused_not_guessed(tmp_path: Path) -> None:
    lat, lon = grid()
    heights = ridge_surface(lat, lon)
    heights[100:150, 40:90] = -32768.0
    dem = load_dem(write_geotiff(tmp_path / "hole.tif", heights, nodata=-32768.0), Datum.HAE)
    hole_lat, hole_lon = LAT_NORTH - 125 * POST_DEG, LON_WEST + 65 * POST_DEG
    assert (
        one_ray(dem, hole_lat, hole_lon, alt_hae=BASE + 300.0, yaw=0.0, pitch=-89.0)
        is Refusal.OUTSIDE_DEM
    )


def test_projected_rasters_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "utm.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=2,
        width=2,
        count=1,
        dtype="float32",
        crs="EPSG:32632",
        transform=from_origin(400_000, 5_000_000, 30, 30),
    ) as target:
        target.write(np.zeros((2, 2), dtype=np.float32), 1)
    with pytest.raises(DemFileError, match="EPSG:4326"):
        load_dem(path)


def test_explicit_terrain_height_wins_over_the_dem(slope_dem: Dem) -> None:
    scenes = scenes_on(
        slope_surface,
        np.array([46.025]),
        np.array([7.03]),
        depression=np.array([45.0]),
        azimuth=np.array([200.0]),
        agl=np.array([150.0]),
    )
    on_plane = replace(scenes.batch, terrain_given=np.ones(1, dtype=bool))
    plane = solve_batch(on_plane, GeoConfig(), slope_dem, with_uncertainty=False)
    on_dem = solve_batch(scenes.batch, GeoConfig(), slope_dem, with_uncertainty=False)
    assert horizontal_error(scenes, plane)[0] < 0.01
    assert horizontal_error(scenes, on_dem)[0] < 0.01
    raised = replace(on_plane, terrain_height=on_plane.terrain_height + 20.0)
    moved = solve_batch(raised, GeoConfig(), slope_dem, with_uncertainty=False)
    assert horizontal_error(scenes, moved)[0] > 15.0  # the plane, not the DEM, was used


@pytest.mark.slow
def test_ce90_on_a_dem_is_calibrated(slope_dem: Dem) -> None:
    """10,000 noisy looks at a point on the slope; the DEM itself is exact (terrain sigma 0)."""
    scenes = scenes_on(
        slope_surface,
        np.array([46.025]),
        np.array([7.03]),
        depression=np.array([35.0]),
        azimuth=np.array([250.0]),
        agl=np.array([200.0]),
    )
    sigmas = scenes.batch.sigmas.copy()
    sigmas[:, SIGMA_COLUMNS.index("terrain_m")] = 0.0
    exact = replace(scenes.batch, sigmas=sigmas)
    trials = 10_000
    noisy = noisy_trials(replace(scenes, batch=exact), trials, np.random.default_rng(4))
    result = solve_batch(noisy, GeoConfig(), slope_dem)
    horizontal, _, solved = errors_from_truth(result, scenes)
    assert solved.mean() > 0.99
    coverage = np.mean(horizontal <= result.ce90_m[solved])
    print(f"DEM calibration: CE90 coverage {coverage:.3f}")
    assert 0.87 <= coverage <= 0.93


def test_without_the_dem_extra_loading_a_dem_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default image has no rasterio (GDAL): a configured DEM fails with the remedy."""
    monkeypatch.setitem(sys.modules, "rasterio", None)  # what `import rasterio` sees without it
    with pytest.raises(DemFileError, match=r"detection-api\[dem\]"):
        load_dem(tmp_path / "terrain.tif")
