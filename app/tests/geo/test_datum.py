"""Datums: MSL and HAE inputs describe the same scene; mixing them up is tens of metres."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pymap3d
import pytest

from detection_api.geo import (
    CameraIntrinsics,
    CameraPose,
    Datum,
    GeoConfig,
    GeoInputError,
    Observation,
    solve,
)
from detection_api.geo.datum import hae_to_msl, msl_to_hae, undulation

# Near Colombo the geoid is ~100 m below the ellipsoid: mixing datums there is very visible.
LAT, LON = 6.9, 79.85
CAMERA = CameraIntrinsics.from_sensor(4000, 3000, 8.8, 13.2, 8.8)


def test_egm96_reference_values() -> None:
    # Published EGM96 undulations (NGA): +17.16 m at 0N 0E; about -100 m south of India.
    assert float(undulation(np.array([0.0]), np.array([0.0]))[0]) == pytest.approx(17.16, abs=0.1)
    assert float(undulation(np.array([LAT]), np.array([LON]))[0]) < -95.0
    assert hae_to_msl(msl_to_hae(123.0, LAT, LON), LAT, LON) == pytest.approx(123.0)


def scene(alt_datum: Datum, terrain_datum: Datum) -> Observation:
    """A camera 150 m above terrain at 20 m MSL, heights expressed in the given datums."""
    terrain_msl, camera_msl = 20.0, 170.0
    alt = camera_msl if alt_datum is Datum.MSL else msl_to_hae(camera_msl, LAT, LON)
    terrain = terrain_msl if terrain_datum is Datum.MSL else msl_to_hae(terrain_msl, LAT, LON)
    pose = CameraPose(LAT, LON, alt, alt_datum, yaw=60.0, pitch=-30.0, roll=0.0)
    return Observation(
        2000.0, 1500.0, CAMERA, pose, terrain_height_m=terrain, terrain_datum=terrain_datum
    )


def distance_m(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    east, north, up = pymap3d.geodetic2enu(*a, *b)
    return float(np.sqrt(east**2 + north**2 + up**2))


def position(observation: Observation) -> tuple[float, float, float]:
    [solution] = solve([observation], GeoConfig(), with_uncertainty=False)
    assert solution.lat is not None
    assert solution.lon is not None
    assert solution.hae is not None
    return solution.lat, solution.lon, solution.hae


@pytest.mark.parametrize("alt_datum", list(Datum))
@pytest.mark.parametrize("terrain_datum", list(Datum))
def test_same_scene_in_either_datum_gives_the_same_point(
    alt_datum: Datum, terrain_datum: Datum
) -> None:
    reference = position(scene(Datum.HAE, Datum.HAE))
    assert distance_m(position(scene(alt_datum, terrain_datum)), reference) < 0.05


def test_mixing_datums_costs_the_undulation_over_tan_depression() -> None:
    """An MSL altitude sent as HAE (the classic DJI/Skydio mix-up) moves the camera by the
    geoid undulation N, which moves the point by N / tan(depression) horizontally.

    Near Washington DC, N = -33 m: at 30 deg depression the mix-up costs ~58 m. Only the
    explicit datum catches it: the correctly labelled scene lands on the truth.
    """
    lat, lon = 38.9, -77.0
    geoid = float(undulation(np.array([lat]), np.array([lon]))[0])
    pose = CameraPose(lat, lon, 170.0, Datum.MSL, yaw=60.0, pitch=-30.0, roll=0.0)
    honest = Observation(
        2000.0, 1500.0, CAMERA, pose, terrain_height_m=20.0, terrain_datum=Datum.MSL
    )
    mixed = replace(honest, pose=replace(pose, alt_datum=Datum.HAE))
    error = distance_m(position(mixed), position(honest))
    predicted = abs(geoid) / np.tan(np.radians(30.0))
    assert 20.0 < error < 100.0
    assert error == pytest.approx(float(np.hypot(predicted, 0.0)), rel=0.05)


def test_camera_pose_has_no_default_datum() -> None:
    with pytest.raises(TypeError):
        CameraPose(LAT, LON, 100.0, yaw=0.0, pitch=-45.0, roll=0.0)  # type: ignore[call-arg]


def test_unknown_datum_is_a_typed_input_error() -> None:
    bad = replace(scene(Datum.MSL, Datum.MSL), terrain_datum="wgs84")  # type: ignore[arg-type]
    with pytest.raises(GeoInputError) as caught:
        solve([bad], GeoConfig())
    assert caught.value.field == "terrain.datum"
    assert "unknown datum" in caught.value.reason


def test_default_terrain_is_sea_level() -> None:
    config = GeoConfig()
    assert config.default_terrain_datum is Datum.MSL
    sea_level = replace(scene(Datum.MSL, Datum.MSL), terrain_height_m=None)
    explicit = replace(scene(Datum.MSL, Datum.MSL), terrain_height_m=0.0)
    assert distance_m(position(sea_level), position(explicit)) < 1e-6
