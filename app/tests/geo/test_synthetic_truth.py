"""Correctness on synthetic truth: exact inputs give back the known ground point (< 0.05 m)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pymap3d
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection_api.geo import (
    CameraIntrinsics,
    CameraPose,
    Datum,
    Distortion,
    GeoConfig,
    Observation,
    solve,
    solve_batch,
)
from detection_api.geo.synthetic import Scenes, SceneSpec, make_scenes, random_spec, select

TOLERANCE_M = 0.05


def errors_m(scenes: Scenes, lat: np.ndarray, lon: np.ndarray, hae: np.ndarray) -> np.ndarray:
    east, north, up = pymap3d.geodetic2enu(
        lat, lon, hae, scenes.target_lat, scenes.target_lon, scenes.target_hae
    )
    return np.sqrt(east**2 + north**2 + up**2)


@pytest.mark.parametrize("distortion", [False, True])
def test_random_envelope_is_solved_exactly(distortion: bool) -> None:
    rng = np.random.default_rng(20261203 + distortion)
    scenes = make_scenes(random_spec(rng, 20_000, distortion=distortion))
    assert len(scenes.batch) > 12_000  # most random poses have a valid attitude
    result = solve_batch(scenes.batch, GeoConfig(), with_uncertainty=False)
    assert (result.refusal == 0).all()
    error = errors_m(scenes, result.lat, result.lon, result.hae)
    assert error.max() < TOLERANCE_M
    depression = result.depression_deg
    assert depression.min() < 6.0
    assert depression.max() > 85.0
    assert scenes.batch.alt_is_msl.any()
    assert (~scenes.batch.alt_is_msl).any()


def single_spec(
    *,
    lat: float,
    lon: float,
    terrain: float,
    agl: float,
    depression: float,
    azimuth: float,
    roll: float,
    msl: bool,
    k1: float,
    pixel: tuple[float, float],
) -> SceneSpec:
    def one(value: float) -> np.ndarray:
        return np.array([value])

    return SceneSpec(
        target_lat=one(lat),
        target_lon=one(lon),
        terrain_height=one(terrain),
        terrain_is_msl=np.array([msl]),
        altitude_agl=one(agl),
        depression_deg=one(depression),
        azimuth_deg=one(azimuth),
        roll_deg=one(roll),
        alt_is_msl=np.array([not msl]),
        distortion=np.array([[k1, 0.01, 0.0, 1e-4, -1e-4]]),
        pixel_fraction=np.array([pixel]),
    )


def as_observation(scenes: Scenes) -> Observation:
    batch = scenes.batch
    fx, fy, cx, cy = batch.intrinsics[0]
    k1, k2, k3, p1, p2 = batch.distortion[0]
    return Observation(
        pixel_x=float(batch.pixel_x[0]),
        pixel_y=float(batch.pixel_y[0]),
        camera=CameraIntrinsics(4000, 3000, fx, fy, cx, cy, Distortion(k1, k2, k3, p1, p2)),
        pose=CameraPose(
            lat=float(batch.lat[0]),
            lon=float(batch.lon[0]),
            alt=float(batch.alt[0]),
            alt_datum=Datum.MSL if batch.alt_is_msl[0] else Datum.HAE,
            yaw=float(batch.yaw[0]),
            pitch=float(batch.pitch[0]),
            roll=float(batch.roll[0]),
        ),
        terrain_height_m=float(batch.terrain_height[0]),
        terrain_datum=Datum.MSL if batch.terrain_is_msl[0] else Datum.HAE,
    )


ENVELOPE = st.fixed_dictionaries(
    {
        "lat": st.floats(-80.0, 80.0),
        "lon": st.floats(-180.0, 180.0),
        "terrain": st.floats(-100.0, 4000.0),
        "agl": st.floats(30.0, 3000.0),
        "depression": st.floats(5.0, 90.0),
        "azimuth": st.floats(0.0, 360.0),
        "roll": st.floats(-30.0, 30.0),
        "msl": st.booleans(),
        "k1": st.floats(-0.3, 0.1),
        "pixel": st.tuples(st.floats(0.1, 0.9), st.floats(0.1, 0.9)),
    }
)


@settings(max_examples=150, deadline=None)
@given(params=ENVELOPE)
def test_single_observation_through_the_public_api(params: dict[str, Any]) -> None:
    scenes = make_scenes(single_spec(**params))
    if not len(scenes.batch):
        return  # no camera attitude puts this pixel on the target (pitch beyond +-90)
    [solution] = solve([as_observation(scenes)], GeoConfig(), with_uncertainty=False)
    assert solution.refusal is None
    assert solution.lat is not None
    assert solution.lon is not None
    assert solution.hae is not None
    error = errors_m(
        scenes, np.array([solution.lat]), np.array([solution.lon]), np.array([solution.hae])
    )
    assert error[0] < TOLERANCE_M


def test_one_observation_is_the_batch_row() -> None:
    rng = np.random.default_rng(5)
    scenes = make_scenes(random_spec(rng, 50))
    whole = solve_batch(scenes.batch, GeoConfig())
    for row in (0, 17, len(scenes.batch) - 1):
        alone = solve_batch(select(scenes.batch, np.array([row])), GeoConfig())
        assert alone.solution(0) == whole.solution(row)
