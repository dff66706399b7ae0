"""Inputs, outputs and settings of the geolocation engine, as plain frozen dataclasses.

Angles are degrees, lengths metres, pixels in the image's own coordinates (origin at the top-left
corner of the top-left pixel, x to the right, y down, as OpenCV). See
docs/adr/0002-geolocation-frames-and-datums.md for the frames and datums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Datum(StrEnum):
    """Vertical datum of a height: the WGS84 ellipsoid or the EGM96 geoid (mean sea level)."""

    HAE = "hae"
    MSL = "msl"


@dataclass(frozen=True, slots=True)
class Distortion:
    """Brown-Conrady lens distortion, with OpenCV's meaning and order of coefficients."""

    k1: float = 0.0
    k2: float = 0.0
    k3: float = 0.0
    p1: float = 0.0
    p2: float = 0.0


@dataclass(frozen=True, slots=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels (focal lengths fx, fy; principal point cx, cy)."""

    image_width: int
    image_height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: Distortion | None = None

    @classmethod
    def from_sensor(  # noqa: PLR0917 (the API's documented positional order)
        cls,
        image_width: int,
        image_height: int,
        focal_length_mm: float,
        sensor_width_mm: float,
        sensor_height_mm: float,
        distortion: Distortion | None = None,
    ) -> CameraIntrinsics:
        """Intrinsics from the lens focal length and the physical sensor size.

        The principal point is the image centre. Checks the millimetre inputs itself, so that a
        bad value is reported against the field the client sent (`camera.focal_length_mm`, ...).
        """
        from detection_api.geo.validation import check_sensor  # noqa: PLC0415 (import cycle)

        check_sensor(image_width, image_height, focal_length_mm, sensor_width_mm, sensor_height_mm)
        return cls(
            image_width=image_width,
            image_height=image_height,
            fx=focal_length_mm * image_width / sensor_width_mm,
            fy=focal_length_mm * image_height / sensor_height_mm,
            cx=image_width / 2.0,
            cy=image_height / 2.0,
            distortion=distortion,
        )


@dataclass(frozen=True, slots=True)
class CameraPose:
    """Where the camera is and where it looks.

    `alt` is given in `alt_datum`. The attitude is that of the camera itself (gimbal included):
    `yaw` clockwise from true north, `pitch` negative below the horizon, `roll` positive with the
    right side of the image down; applied in the order yaw, then pitch, then roll (Z-Y-X).
    """

    lat: float
    lon: float
    alt: float
    alt_datum: Datum
    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True, slots=True)
class Sigmas:
    """One-sigma input uncertainties. Defaults describe a small drone with a consumer GNSS.

    horizontal_m: camera position, per horizontal axis (north and east independently).
    vertical_m: camera altitude.
    yaw_deg: heading (magnetometers are often worse: raise it when uncalibrated).
    pitch_deg, roll_deg: attitude of the camera (gimbal included).
    pixel: detection position in the image, per image axis.
    terrain_m: height of the terrain under the target (plane or DEM).
    """

    horizontal_m: float = 1.5
    vertical_m: float = 3.0
    yaw_deg: float = 3.0
    pitch_deg: float = 1.0
    roll_deg: float = 1.0
    pixel: float = 2.0
    terrain_m: float = 5.0


@dataclass(frozen=True, slots=True)
class Observation:
    """One detection to geolocate.

    `sigmas` None means the configured `GeoConfig.default_sigmas`.
    `terrain_height_m` (in `terrain_datum`) asks for the ellipsoid raised to that height; when
    it is None the DEM (if any) or the configured default plane is used.
    """

    pixel_x: float
    pixel_y: float
    camera: CameraIntrinsics
    pose: CameraPose
    sigmas: Sigmas | None = None
    terrain_height_m: float | None = None
    terrain_datum: Datum = Datum.HAE


@dataclass(frozen=True, slots=True)
class GeoConfig:
    """Settings of the engine.

    default_terrain_*: the plane used when a request gives no terrain height and no DEM covers
    it. Its datum defaults to MSL because "sea level" is what an unspecified height of 0 means
    to an operator; 0 m HAE lies up to ~100 m away from the sea surface.
    min_depression_deg: rays flatter than this below the local horizontal are refused (the
    position would hinge on tiny attitude errors).
    min_incidence_deg: DEM hits where the ray meets the terrain surface at a smaller angle are
    refused as grazing.
    dem_step_fraction: DEM ray-marching step, as a fraction of the DEM post spacing.
    """

    min_depression_deg: float = 2.0
    default_terrain_height_m: float = 0.0
    default_terrain_datum: Datum = Datum.MSL
    green_max_ce90_m: float = 15.0
    yellow_max_ce90_m: float = 91.0
    default_sigmas: Sigmas = field(default_factory=Sigmas)
    min_incidence_deg: float = 2.0
    dem_step_fraction: float = 0.5
