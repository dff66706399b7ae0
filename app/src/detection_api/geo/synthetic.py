"""Synthetic truth for tests, benchmarks and accuracy reports (pure, vectorised).

`make_scenes` places known ground points and builds, for each, a camera pose and the pixel that
sees it, independently of the solver's own frame code: the line of sight comes from pymap3d's
`geodetic2ned`, and the attitude that puts the target on the chosen pixel is solved in closed
form from elementary rotations. `add_noise` then draws measurement errors from stated sigmas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pymap3d

from detection_api.geo.arrays import BoolArray, FloatArray
from detection_api.geo.batch import SIGMA_COLUMNS, ObservationBatch
from detection_api.geo.camera import distort
from detection_api.geo.datum import undulation
from detection_api.geo.model import Sigmas

IMAGE_WIDTH, IMAGE_HEIGHT = 4000, 3000
FOCAL_PX = 2800.0


@dataclass(frozen=True)
class SceneSpec:
    """Conditions per scene (arrays of equal length); see `random_spec` for typical ranges."""

    target_lat: FloatArray
    target_lon: FloatArray
    terrain_height: FloatArray
    terrain_is_msl: BoolArray
    altitude_agl: FloatArray
    depression_deg: FloatArray
    azimuth_deg: FloatArray
    roll_deg: FloatArray
    alt_is_msl: BoolArray
    distortion: FloatArray
    pixel_fraction: FloatArray


@dataclass(frozen=True)
class Scenes:
    """A batch of observations and the ground truth each one sees."""

    batch: ObservationBatch
    target_lat: FloatArray
    target_lon: FloatArray
    target_hae: FloatArray


def random_spec(rng: np.random.Generator, size: int, *, distortion: bool = True) -> SceneSpec:
    """Scenes over the issue's envelope: 30-3000 m AGL, 5-90 deg depression, any yaw,
    |roll| <= 30 deg, |lat| <= 80 deg, both datums, with and without distortion."""
    coefficients = np.zeros((size, 5))
    if distortion:
        distorted = rng.random(size) < 0.5
        coefficients[distorted] = rng.uniform(
            [-0.3, -0.05, -0.01, -2e-3, -2e-3], [0.1, 0.05, 0.01, 2e-3, 2e-3], (distorted.sum(), 5)
        )
    return SceneSpec(
        target_lat=rng.uniform(-80.0, 80.0, size),
        target_lon=rng.uniform(-180.0, 180.0, size),
        terrain_height=rng.uniform(-100.0, 3000.0, size),
        terrain_is_msl=rng.random(size) < 0.5,
        altitude_agl=np.exp(rng.uniform(np.log(30.0), np.log(3000.0), size)),
        depression_deg=rng.uniform(5.0, 90.0, size),
        azimuth_deg=rng.uniform(0.0, 360.0, size),
        roll_deg=rng.uniform(-30.0, 30.0, size),
        alt_is_msl=rng.random(size) < 0.5,
        distortion=coefficients,
        pixel_fraction=rng.uniform(0.1, 0.9, (size, 2)),
    )


def _attitude(
    line_of_sight: FloatArray, ray_camera: FloatArray, roll_deg: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Yaw and pitch (deg) that, with the given roll, rotate the camera ray onto the NED LOS."""
    body = ray_camera[:, [2, 0, 1]]  # camera (right, down, forward) -> body (fwd, right, down)
    roll = np.radians(roll_deg)
    bx = body[:, 0]
    by = np.cos(roll) * body[:, 1] - np.sin(roll) * body[:, 2]
    bz = np.sin(roll) * body[:, 1] + np.cos(roll) * body[:, 2]
    amplitude, phase = np.hypot(bx, bz), np.arctan2(bx, bz)
    with np.errstate(invalid="ignore"):
        half_turn = np.arccos(line_of_sight[:, 2] / amplitude)
    pitch = -half_turn - phase
    pitch = np.where(np.abs(pitch) <= np.pi / 2, pitch, half_turn - phase)
    valid = np.isfinite(pitch) & (np.abs(pitch) <= np.pi / 2)
    wx = np.cos(pitch) * bx + np.sin(pitch) * bz
    yaw = np.arctan2(line_of_sight[:, 1], line_of_sight[:, 0]) - np.arctan2(by, wx)
    yaw_deg = np.mod(np.degrees(yaw) + 180.0, 360.0) - 180.0
    return yaw_deg, np.degrees(pitch), valid


def make_scenes(spec: SceneSpec, sigmas: Sigmas | None = None) -> Scenes:
    """Exact observations of known targets; rows with no valid attitude are dropped."""
    size = len(spec.target_lat)
    target_hae = spec.terrain_height + np.where(
        spec.terrain_is_msl, undulation(spec.target_lat, spec.target_lon), 0.0
    )
    ground = spec.altitude_agl / np.tan(np.radians(spec.depression_deg))
    azimuth = np.radians(spec.azimuth_deg)
    camera_lat, camera_lon, camera_hae = pymap3d.enu2geodetic(
        ground * np.sin(azimuth),
        ground * np.cos(azimuth),
        spec.altitude_agl,
        spec.target_lat,
        spec.target_lon,
        target_hae,
    )
    north, east, down = pymap3d.geodetic2ned(
        spec.target_lat, spec.target_lon, target_hae, camera_lat, camera_lon, camera_hae
    )
    line_of_sight = np.stack([north, east, down], -1)
    line_of_sight /= np.linalg.norm(line_of_sight, axis=-1, keepdims=True)
    cx, cy = IMAGE_WIDTH / 2.0, IMAGE_HEIGHT / 2.0
    x = (spec.pixel_fraction[:, 0] * IMAGE_WIDTH - cx) / FOCAL_PX
    y = (spec.pixel_fraction[:, 1] * IMAGE_HEIGHT - cy) / FOCAL_PX
    ray = np.stack([x, y, np.ones(size)], -1)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    yaw, pitch, valid = _attitude(line_of_sight, ray, spec.roll_deg)
    x_distorted, y_distorted = distort(x, y, spec.distortion)
    sigma_row = [getattr(sigmas or Sigmas(), name) for name in SIGMA_COLUMNS]
    batch = ObservationBatch(
        pixel_x=x_distorted * FOCAL_PX + cx,
        pixel_y=y_distorted * FOCAL_PX + cy,
        intrinsics=np.tile([FOCAL_PX, FOCAL_PX, cx, cy], (size, 1)),
        distortion=spec.distortion,
        lat=np.asarray(camera_lat),
        lon=np.asarray(camera_lon),
        alt=camera_hae - np.where(spec.alt_is_msl, undulation(camera_lat, camera_lon), 0.0),
        alt_is_msl=spec.alt_is_msl,
        yaw=yaw,
        pitch=pitch,
        roll=spec.roll_deg,
        sigmas=np.tile(sigma_row, (size, 1)),
        terrain_height=spec.terrain_height,
        terrain_is_msl=spec.terrain_is_msl,
        terrain_given=np.ones(size, dtype=bool),
    )
    keep = np.flatnonzero(valid)
    return Scenes(
        select(batch, keep), spec.target_lat[keep], spec.target_lon[keep], target_hae[keep]
    )


def select(batch: ObservationBatch, rows: np.ndarray) -> ObservationBatch:
    """The rows `rows` of a batch."""
    columns = {name: getattr(batch, name)[rows] for name in batch.__dataclass_fields__}
    return ObservationBatch(**columns)


def add_noise(batch: ObservationBatch, rng: np.random.Generator) -> ObservationBatch:
    """Measured inputs: the true ones plus Gaussian errors with the batch's own sigmas."""
    size = len(batch)
    sigma = {name: batch.sigmas[:, i] for i, name in enumerate(SIGMA_COLUMNS)}

    def draw(name: str, shape: tuple[int, ...] = ()) -> FloatArray:
        scale = sigma[name].reshape((size,) + (1,) * len(shape))
        return np.asarray(rng.standard_normal((size, *shape)) * scale)

    position = draw("horizontal_m", (2,))
    lat, lon, _ = pymap3d.enu2geodetic(
        position[:, 0], position[:, 1], 0.0, batch.lat, batch.lon, 0.0
    )
    pixel = draw("pixel", (2,))
    return replace(
        batch,
        lat=np.asarray(lat),
        lon=np.asarray(lon),
        alt=batch.alt + draw("vertical_m"),
        yaw=batch.yaw + draw("yaw_deg"),
        pitch=batch.pitch + draw("pitch_deg"),
        roll=batch.roll + draw("roll_deg"),
        pixel_x=batch.pixel_x + pixel[:, 0],
        pixel_y=batch.pixel_y + pixel[:, 1],
        terrain_height=batch.terrain_height + draw("terrain_m"),
    )
