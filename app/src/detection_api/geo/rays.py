"""Everything needed to cast one ray, as arrays: built from a batch, tiled for perturbations."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pymap3d

from detection_api.geo.arrays import BoolArray, FloatArray
from detection_api.geo.batch import ObservationBatch
from detection_api.geo.camera import pixel_rays
from detection_api.geo.datum import to_hae
from detection_api.geo.frames import camera_to_ecef, up_axis
from detection_api.geo.model import GeoConfig


@dataclass(frozen=True)
class CastInputs:
    """What the caster needs besides the ray directions (struct of arrays, N rows).

    `origin` is the camera in ECEF and `camera_hae` its ellipsoidal height; the terrain is the
    plane `plane_height` (HAE or MSL) or, where `use_dem`, the DEM; both raised by
    `terrain_offset` (used by the uncertainty propagation).
    """

    origin: FloatArray
    camera_hae: FloatArray
    camera_lat: FloatArray
    camera_lon: FloatArray
    plane_height: FloatArray
    plane_is_msl: BoolArray
    use_dem: BoolArray
    terrain_offset: FloatArray

    def __len__(self) -> int:
        return len(self.origin)

    def take(self, index: np.ndarray) -> CastInputs:
        """The rows selected by an index or boolean mask."""
        return CastInputs(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def tile(self, copies: int, **changed: Any) -> CastInputs:
        """`copies` stacked copies of every row (copy k is rows k*N .. (k+1)*N - 1), with
        the columns in `changed` replaced (already tiled by the caller)."""
        columns = dict(changed)
        for column in fields(self):
            if column.name not in changed:
                value = getattr(self, column.name)
                columns[column.name] = np.tile(value, (copies,) + (1,) * (value.ndim - 1))
        return CastInputs(**columns)


@dataclass(frozen=True)
class RayInputs:
    """Per-ray inputs of the caster (struct of arrays, all with the same first dimension).

    `origin` is the camera in ECEF and `camera_hae` its ellipsoidal height; attitude and pixels
    stay separate so that perturbations can act on each input before the direction is built.
    """

    pixel_x: FloatArray
    pixel_y: FloatArray
    intrinsics: FloatArray
    distortion: FloatArray
    distorted: BoolArray
    yaw: FloatArray
    pitch: FloatArray
    roll: FloatArray
    camera_lat: FloatArray
    camera_lon: FloatArray
    camera_hae: FloatArray
    origin: FloatArray
    plane_height: FloatArray
    plane_is_msl: BoolArray
    use_dem: BoolArray
    terrain_offset: FloatArray
    sigmas: FloatArray

    def __len__(self) -> int:
        return len(self.pixel_x)

    def take(self, index: np.ndarray) -> RayInputs:
        """The rows selected by an index or boolean mask."""
        return RayInputs(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def cast_inputs(self) -> CastInputs:
        return CastInputs(
            origin=self.origin,
            camera_hae=self.camera_hae,
            camera_lat=self.camera_lat,
            camera_lon=self.camera_lon,
            plane_height=self.plane_height,
            plane_is_msl=self.plane_is_msl,
            use_dem=self.use_dem,
            terrain_offset=self.terrain_offset,
        )

    def camera_rays(self, pixel_x: FloatArray, pixel_y: FloatArray, copies: int = 1) -> FloatArray:
        """Unit camera-frame rays through pixels given for `copies` stacked copies of the rows."""
        return pixel_rays(
            pixel_x,
            pixel_y,
            np.tile(self.intrinsics, (copies, 1)),
            np.tile(self.distortion, (copies, 1)),
            np.tile(self.distorted, copies),
        )

    def directions(self) -> FloatArray:
        """Unit ray directions in ECEF (N, 3) through each pixel."""
        camera_frame = self.camera_rays(self.pixel_x, self.pixel_y)
        return camera_to_ecef(
            camera_frame,
            self.yaw,
            self.pitch,
            self.roll,
            lat_deg=self.camera_lat,
            lon_deg=self.camera_lon,
        )

    def depression_deg(self, directions: FloatArray) -> FloatArray:
        """Angle of each ray below the camera's local horizontal plane."""
        up = up_axis(self.camera_lat, self.camera_lon)
        sine = np.clip(-np.sum(directions * up, -1), -1.0, 1.0)
        return np.degrees(np.arcsin(sine))


def finite_rows(batch: ObservationBatch) -> BoolArray:
    """Rows whose every numeric input is finite (others are refused as NON_FINITE)."""
    ok = np.ones(len(batch), dtype=bool)
    for column in fields(batch):
        value = getattr(batch, column.name)
        if value.dtype.kind == "f":
            finite = np.isfinite(value)
            if column.name == "terrain_height":
                finite |= ~batch.terrain_given
            ok &= finite.reshape(len(batch), -1).all(axis=1)
    return ok


def ray_inputs(batch: ObservationBatch, config: GeoConfig, has_dem: bool) -> RayInputs:
    """Convert a (finite) batch: camera altitude to HAE and ECEF, terrain choice per row."""
    camera_hae = to_hae(batch.alt, batch.alt_is_msl, batch.lat, batch.lon)
    x, y, z = pymap3d.geodetic2ecef(batch.lat, batch.lon, camera_hae)
    default_msl = config.default_terrain_datum == "msl"
    return RayInputs(
        pixel_x=batch.pixel_x,
        pixel_y=batch.pixel_y,
        intrinsics=batch.intrinsics,
        distortion=batch.distortion,
        distorted=np.any(batch.distortion != 0.0, axis=1),
        yaw=batch.yaw,
        pitch=batch.pitch,
        roll=batch.roll,
        camera_lat=batch.lat,
        camera_lon=batch.lon,
        camera_hae=camera_hae,
        origin=np.stack([x, y, z], -1),
        plane_height=np.where(
            batch.terrain_given, batch.terrain_height, config.default_terrain_height_m
        ),
        plane_is_msl=np.where(batch.terrain_given, batch.terrain_is_msl, default_msl),
        use_dem=~batch.terrain_given & has_dem,
        terrain_offset=np.zeros(len(batch)),
        sigmas=batch.sigmas,
    )
