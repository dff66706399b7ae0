"""The public surface: solving one observation, typed input errors, refusals as data."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from detection_api.geo import (
    CameraIntrinsics,
    CameraPose,
    Category,
    Datum,
    Distortion,
    Flag,
    GeoConfig,
    GeoInputError,
    Observation,
    ObservationBatch,
    Refusal,
    Sigmas,
    solve,
    solve_batch,
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


@pytest.mark.parametrize(
    ("observation", "field"),
    [
        (replace(CENTRE, camera=replace(CAMERA, image_width=0)), "camera.image_width"),
        (replace(CENTRE, camera=replace(CAMERA, image_height=100_001)), "camera.image_height"),
        (replace(CENTRE, camera=replace(CAMERA, cx=-1.0)), "camera.cx"),
        (
            replace(CENTRE, camera=replace(CAMERA, distortion=Distortion(p2=10.5))),
            "camera.distortion.p2",
        ),
        (replace(CENTRE, pose=replace(POSE, lat=90.0)), "pose.lat"),
        (replace(CENTRE, pose=replace(POSE, lon=-180.01)), "pose.lon"),
        (replace(CENTRE, pose=replace(POSE, alt=100_001.0)), "pose.alt"),
        (replace(CENTRE, pose=replace(POSE, alt=-1_001.0)), "pose.alt"),
        (replace(CENTRE, pose=replace(POSE, pitch=True)), "pose.pitch"),  # type: ignore[arg-type]
        (replace(CENTRE, sigmas=Sigmas(pitch_deg=45.5)), "uncertainty.pitch_deg"),
        (replace(CENTRE, sigmas=Sigmas(pixel=1_000.5)), "uncertainty.pixel"),
        (replace(CENTRE, sigmas=Sigmas(horizontal_m=math.nan)), "uncertainty.horizontal_m"),
        (replace(CENTRE, terrain_height_m=10_000.5), "terrain.height_m"),
    ],
)
def test_every_limit_is_enforced(observation: Observation, field: str) -> None:
    with pytest.raises(GeoInputError) as caught:
        solve([observation], GeoConfig())
    assert caught.value.field == field
    assert caught.value.index == 0


@pytest.mark.parametrize(
    "sensor",
    [
        {"sensor_width_mm": 0.0},
        {"sensor_height_mm": -1.0},
        {"image_width": 0},
    ],
)
def test_from_sensor_checks_every_input(sensor: dict[str, float]) -> None:
    arguments = {
        "image_width": 4000,
        "image_height": 3000,
        "focal_length_mm": 8.8,
        "sensor_width_mm": 13.2,
        "sensor_height_mm": 8.8,
        **sensor,
    }
    with pytest.raises(GeoInputError) as caught:
        CameraIntrinsics.from_sensor(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == f"camera.{next(iter(sensor))}"


def test_limits_at_the_edge_are_accepted() -> None:
    edge = replace(
        CENTRE,
        pixel_x=4000.0,
        pixel_y=0.0,
        pose=replace(POSE, yaw=-360.0, roll=-180.0, lon=180.0),
        sigmas=Sigmas(yaw_deg=0.0),
    )
    [solution] = solve([edge], GeoConfig())
    assert solution.depression_deg is not None


def test_min_depression_is_configurable() -> None:
    observation = replace(CENTRE, pose=replace(POSE, pitch=-8.0))
    [default] = solve([observation], GeoConfig())
    [strict] = solve([observation], GeoConfig(min_depression_deg=10.0))
    assert default.refusal is None
    assert strict.refusal is Refusal.BELOW_MIN_DEPRESSION
    assert strict.depression_deg == pytest.approx(8.0)


def test_ray_beyond_the_horizon_from_high_altitude_is_refused() -> None:
    # From 100 km up the horizon is ~10 deg down: a 5 deg ray passes above the Earth.
    high = replace(CENTRE, pose=replace(POSE, alt=100_000.0, pitch=-5.0))
    [solution] = solve([high], GeoConfig())
    assert solution.refusal is Refusal.NO_INTERSECTION


def test_one_sigma_above_the_horizon_is_unbounded() -> None:
    # 3 deg down with a 5 deg pitch sigma: the +1 sigma ray points at the sky.
    shaky = replace(CENTRE, pose=replace(POSE, pitch=-3.0), sigmas=Sigmas(pitch_deg=5.0))
    [solution] = solve([shaky], GeoConfig())
    assert solution.refusal is Refusal.UNBOUNDED_UNCERTAINTY
    assert solution.flag is Flag.RED
    [position_only] = solve([shaky], GeoConfig(), with_uncertainty=False)
    assert position_only.refusal is None


def test_without_uncertainty_the_flag_is_red() -> None:
    [solution] = solve([CENTRE], GeoConfig(), with_uncertainty=False)
    assert solution.lat is not None
    assert solution.ce90_m is None
    assert solution.category is None
    assert solution.flag is Flag.RED


def test_default_sigmas_come_from_the_config() -> None:
    tight = GeoConfig(default_sigmas=Sigmas(yaw_deg=0.5, pitch_deg=0.2, horizontal_m=0.5))
    [loose] = solve([CENTRE], GeoConfig())
    [precise] = solve([CENTRE], tight)
    assert loose.ce90_m is not None
    assert precise.ce90_m is not None
    assert precise.ce90_m < loose.ce90_m


def test_non_finite_rows_of_a_numeric_batch_are_refused_alone() -> None:
    batch = ObservationBatch.from_observations([CENTRE, CENTRE, CENTRE], GeoConfig())
    yaw = batch.yaw.copy()
    yaw[1] = math.inf
    pixel_y = batch.pixel_y.copy()
    pixel_y[2] = math.nan
    result = solve_batch(replace(batch, yaw=yaw, pixel_y=pixel_y), GeoConfig())
    assert [result.solution(i).refusal for i in range(3)] == [
        None,
        Refusal.NON_FINITE,
        Refusal.NON_FINITE,
    ]
    assert np.isnan(result.lat[1:]).all()
    assert np.isfinite(result.ce90_m[0])


def test_degenerate_numeric_camera_is_refused_as_non_finite() -> None:
    batch = ObservationBatch.from_observations([CENTRE, CENTRE], GeoConfig())
    intrinsics = batch.intrinsics.copy()
    intrinsics[1, 0] = 0.0  # fx = 0 bypasses validation on the numeric path
    result = solve_batch(replace(batch, intrinsics=intrinsics), GeoConfig())
    assert result.solution(0).refusal is None
    assert result.solution(1).refusal is Refusal.NON_FINITE


def test_batch_arrays_must_agree_in_length() -> None:
    batch = ObservationBatch.from_observations([CENTRE, CENTRE], GeoConfig())
    with pytest.raises(GeoInputError) as caught:
        replace(batch, yaw=batch.yaw[:1])
    assert caught.value.field == "yaw"


def test_solution_geometry_fields() -> None:
    [solution] = solve([CENTRE], GeoConfig())
    assert solution.ellipse_semi_major_m is not None
    assert solution.ellipse_semi_minor_m is not None
    assert solution.ellipse_orientation_deg is not None
    assert solution.ellipse_semi_major_m >= solution.ellipse_semi_minor_m
    assert 0.0 <= solution.ellipse_orientation_deg < 180.0
    assert solution.le90_m is not None
    assert solution.le_sigma_m == pytest.approx(solution.le90_m / 1.6449, rel=1e-4)
    assert solution.category is not None


def test_the_worked_example_of_adr_0002() -> None:
    """docs/adr/0002-geolocation-frames-and-datums.md, section "Worked example"."""
    camera = CameraIntrinsics(4000, 3000, 2800.0, 2800.0, 2000.0, 1500.0)
    pose = CameraPose(45.0, 7.0, 420.0, Datum.MSL, yaw=30.0, pitch=-40.0, roll=5.0)
    observation = Observation(
        2600.0, 1900.0, camera, pose, terrain_height_m=300.0, terrain_datum=Datum.MSL
    )
    [solution] = solve([observation], GeoConfig())
    assert solution.lat == pytest.approx(45.000667, abs=5e-7)
    assert solution.lon == pytest.approx(7.001004, abs=5e-7)
    assert solution.hae == pytest.approx(352.956, abs=1e-3)
    assert solution.slant_range_m == pytest.approx(161.75, abs=0.01)
    assert solution.depression_deg == pytest.approx(47.89, abs=0.01)
    assert solution.ce90_m == pytest.approx(13.5, abs=0.05)
    assert solution.ellipse_semi_major_m == pytest.approx(14.3, abs=0.05)
    assert solution.ellipse_semi_minor_m == pytest.approx(12.6, abs=0.05)
    assert solution.ellipse_orientation_deg == pytest.approx(35.0, abs=0.5)
    assert solution.le90_m == pytest.approx(8.2, abs=0.05)
    assert solution.ce_sigma_m == pytest.approx(6.29, abs=0.01)
    assert solution.category is Category.CAT2
    assert solution.flag is Flag.GREEN


def test_pre_validated_observations_solve_the_same_without_a_second_check() -> None:
    """`validated=True` only skips the check; an invalid batch still fails by default."""
    config = GeoConfig()
    good = Observation(
        pixel_x=960.0,
        pixel_y=540.0,
        camera=CameraIntrinsics(1920, 1080, 1400.0, 1400.0, 960.0, 540.0),
        pose=CameraPose(48.1, 11.5, 120.0, Datum.HAE, 30.0, -45.0, 0.0),
        terrain_height_m=0.0,
    )
    assert solve([good], config, validated=True) == solve([good], config)
    bad = replace(good, pixel_x=5000.0)
    with pytest.raises(GeoInputError, match=r"pixel\.x"):
        solve([good, bad], config)
