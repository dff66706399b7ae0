"""Checks of every observation field, raising `GeoInputError(field, reason)` with the API's path.

Every limit is explicit here; the solver itself never sees an out-of-range value from this path.
"""

from __future__ import annotations

import math
from dataclasses import fields

from detection_api.geo.model import CameraIntrinsics, CameraPose, Datum, Observation, Sigmas
from detection_api.geo.results import GeoInputError

MAX_IMAGE_SIDE_PX = 100_000
MAX_DISTORTION_COEFFICIENT = 10.0
ALTITUDE_RANGE_M = (-1_000.0, 100_000.0)
TERRAIN_RANGE_M = (-1_000.0, 10_000.0)
MAX_ANGLE_SIGMA_DEG = 45.0
MAX_LENGTH_SIGMA_M = 10_000.0
MAX_PIXEL_SIGMA = 1_000.0


def check_number(
    field: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
) -> float:
    """Return `value` as a float, or raise if it is not a finite number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeoInputError(field, f"must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise GeoInputError(field, "must be finite (NaN and infinity are not allowed)")
    if low is not None and (number < low or (low_open and number == low)):
        bound = "greater than" if low_open else "at least"
        raise GeoInputError(field, f"must be {bound} {low:g}, got {number:g}")
    if high is not None and number > high:
        raise GeoInputError(field, f"must be at most {high:g}, got {number:g}")
    return number


def check_datum(field: str, value: object) -> Datum:
    """Accept a `Datum` or its string value; anything else is an unknown datum."""
    if isinstance(value, Datum):
        return value
    try:
        return Datum(str(value))
    except ValueError:
        allowed = ", ".join(datum.value for datum in Datum)
        raise GeoInputError(field, f"unknown datum {value!r}: use one of {allowed}") from None


def check_image_side(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GeoInputError(field, f"must be an integer number of pixels, got {value!r}")
    if not 0 < value <= MAX_IMAGE_SIDE_PX:
        raise GeoInputError(field, f"must be between 1 and {MAX_IMAGE_SIDE_PX}, got {value}")
    return value


def check_sensor(
    image_width: object,
    image_height: object,
    focal_length_mm: object,
    sensor_width_mm: object,
    sensor_height_mm: object,
) -> None:
    """Checks of `CameraIntrinsics.from_sensor` inputs, named as the API names them."""
    check_image_side("camera.image_width", image_width)
    check_image_side("camera.image_height", image_height)
    check_number("camera.focal_length_mm", focal_length_mm, 0.0, 10_000.0, low_open=True)
    check_number("camera.sensor_width_mm", sensor_width_mm, 0.0, 1_000.0, low_open=True)
    check_number("camera.sensor_height_mm", sensor_height_mm, 0.0, 1_000.0, low_open=True)


def check_camera(camera: CameraIntrinsics) -> None:
    width = check_image_side("camera.image_width", camera.image_width)
    height = check_image_side("camera.image_height", camera.image_height)
    check_number("camera.fx", camera.fx, 0.0, 1e7, low_open=True)
    check_number("camera.fy", camera.fy, 0.0, 1e7, low_open=True)
    check_number("camera.cx", camera.cx, 0.0, float(width))
    check_number("camera.cy", camera.cy, 0.0, float(height))
    if camera.distortion is not None:
        limit = MAX_DISTORTION_COEFFICIENT
        for coefficient in fields(camera.distortion):
            value = getattr(camera.distortion, coefficient.name)
            check_number(f"camera.distortion.{coefficient.name}", value, -limit, limit)


def check_pose(pose: CameraPose) -> None:
    if not -90.0 < check_number("pose.lat", pose.lat) < 90.0:
        raise GeoInputError(
            "pose.lat", "must be strictly between -90 and 90 (no true north at a pole)"
        )
    check_number("pose.lon", pose.lon, -180.0, 180.0)
    check_number("pose.alt", pose.alt, *ALTITUDE_RANGE_M)
    check_datum("pose.alt_datum", pose.alt_datum)
    check_number("pose.yaw", pose.yaw, -360.0, 360.0)
    check_number("pose.pitch", pose.pitch, -90.0, 90.0)
    check_number("pose.roll", pose.roll, -180.0, 180.0)


def check_sigmas(sigmas: Sigmas) -> None:
    highs = {
        "horizontal_m": MAX_LENGTH_SIGMA_M,
        "vertical_m": MAX_LENGTH_SIGMA_M,
        "terrain_m": MAX_LENGTH_SIGMA_M,
        "yaw_deg": MAX_ANGLE_SIGMA_DEG,
        "pitch_deg": MAX_ANGLE_SIGMA_DEG,
        "roll_deg": MAX_ANGLE_SIGMA_DEG,
        "pixel": MAX_PIXEL_SIGMA,
    }
    for name, high in highs.items():
        check_number(f"uncertainty.{name}", getattr(sigmas, name), 0.0, high)


def validate(observation: Observation) -> None:
    """Raise `GeoInputError` for the first invalid field of `observation`."""
    camera = observation.camera
    check_camera(camera)
    check_number("pixel.x", observation.pixel_x, 0.0, float(camera.image_width))
    check_number("pixel.y", observation.pixel_y, 0.0, float(camera.image_height))
    check_pose(observation.pose)
    if observation.sigmas is not None:
        check_sigmas(observation.sigmas)
    if observation.terrain_height_m is not None:
        check_number("terrain.height_m", observation.terrain_height_m, *TERRAIN_RANGE_M)
    check_datum("terrain.datum", observation.terrain_datum)
