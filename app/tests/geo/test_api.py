"""The public surface: solving one observation, typed input errors, refusals as data."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from detection_api.geo import (
    CameraIntrinsics,
    CameraPose,
    Datum,
    Distortion,
    Flag,
    GeoConfig,
    GeoInputError,
    Observation,
    Refusal,
    Sigmas,
    solve,
)

CAMERA = CameraIntrinsics.from_sensor(4000, 3000, 8.8, 13.2, 8.8)
POSE = CameraPose(
    lat=45.0, lon=7.0, alt=120.0, alt_datum=Datum.HAE, yaw=30.0, pitch=-45.0, roll=0.0
)
CENTRE = Observation(2000.0, 1500.0, CAMERA, POSE, terrain_height_m=0.0)


def test_centre_pixel_lands_at_the_ground_range_along_the_heading() -> None:
    [solution] = solve([CENTRE], GeoConfig())
    assert solution.refusal is None
    assert solution.hae == pytest.approx(0.0, abs=1e-3)
    assert solution.depression_deg == pytest.approx(45.0, abs=1e-9)
    assert solution.slant_range_m == pytest.approx(120.0 * math.sqrt(2.0), rel=1e-3)
    assert solution.flag in {Flag.GREEN, Flag.YELLOW}
    assert solution.ce90_m is not None
    assert solution.ce_sigma_m == pytest.approx(solution.ce90_m / 2.1460, rel=1e-4)


def test_from_sensor_converts_millimetres_to_pixels() -> None:
    assert CAMERA.fx == pytest.approx(8.8 * 4000 / 13.2)
    assert CAMERA.fy == pytest.approx(8.8 * 3000 / 8.8)
    assert (CAMERA.cx, CAMERA.cy) == (2000.0, 1500.0)


@pytest.mark.parametrize(
    ("observation", "field"),
    [
        (replace(CENTRE, pixel_x=4000.5), "pixel.x"),
        (replace(CENTRE, pixel_y=-1.0), "pixel.y"),
        (replace(CENTRE, pixel_x=math.nan), "pixel.x"),
        (replace(CENTRE, camera=replace(CAMERA, fx=0.0)), "camera.fx"),
        (replace(CENTRE, camera=replace(CAMERA, fy=-5.0)), "camera.fy"),
        (
            replace(CENTRE, camera=replace(CAMERA, distortion=Distortion(k1=math.inf))),
            "camera.distortion.k1",
        ),
        (replace(CENTRE, pose=replace(POSE, lat=91.0)), "pose.lat"),
        (replace(CENTRE, pose=replace(POSE, pitch=-90.5)), "pose.pitch"),
        (replace(CENTRE, pose=replace(POSE, roll=181.0)), "pose.roll"),
        (replace(CENTRE, pose=replace(POSE, yaw=400.0)), "pose.yaw"),
        (replace(CENTRE, pose=replace(POSE, alt_datum="egm2008")), "pose.alt_datum"),  # type: ignore[arg-type]
        (replace(CENTRE, sigmas=Sigmas(yaw_deg=-1.0)), "uncertainty.yaw_deg"),
        (replace(CENTRE, terrain_height_m=math.inf), "terrain.height_m"),
        (replace(CENTRE, terrain_datum="geoid"), "terrain.datum"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_the_field(observation: Observation, field: str) -> None:
    with pytest.raises(GeoInputError) as caught:
        solve([CENTRE, observation], GeoConfig())
    assert caught.value.field == field
    assert caught.value.index == 1
    assert caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_from_sensor_rejects_non_positive_focal_length() -> None:
    with pytest.raises(GeoInputError) as caught:
        CameraIntrinsics.from_sensor(4000, 3000, 0.0, 13.2, 8.8)
    assert caught.value.field == "camera.focal_length_mm"


@pytest.mark.parametrize(
    ("pitch", "refusal"),
    [
        (10.0, Refusal.ABOVE_HORIZON),
        (0.0, Refusal.ABOVE_HORIZON),
        (-1.0, Refusal.BELOW_MIN_DEPRESSION),
    ],
)
def test_flat_or_upward_rays_are_refused_red(pitch: float, refusal: Refusal) -> None:
    observation = replace(CENTRE, pose=replace(POSE, pitch=pitch))
    [solution] = solve([observation], GeoConfig())
    assert solution.refusal is refusal
    assert solution.flag is Flag.RED
    assert solution.lat is None
    assert solution.ce90_m is None
    assert refusal.reason


def test_camera_below_the_given_terrain_is_refused() -> None:
    [solution] = solve([replace(CENTRE, terrain_height_m=500.0)], GeoConfig())
    assert solution.refusal is Refusal.CAMERA_BELOW_TERRAIN


def test_every_refusal_has_a_reason() -> None:
    assert all(refusal.reason for refusal in Refusal)
