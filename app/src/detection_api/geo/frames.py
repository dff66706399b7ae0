"""Rotations between the camera, body (FRD), local NED/ENU and ECEF frames, vectorised.

Conventions (docs/adr/0002-geolocation-frames-and-datums.md):
- camera: x right, y down, z forward (optical axis);
- body: forward-right-down; a camera at zero attitude looks forward, so body = (z, x, y)_camera;
- NED at the camera's geodetic position; attitude is the aerospace Z-Y-X sequence:
  R_ned<-body = Rz(yaw) @ Ry(pitch) @ Rx(roll);
- ECEF: WGS84 Earth-centred, Earth-fixed.
"""

from __future__ import annotations

import numpy as np

from detection_api.geo.arrays import FloatArray

#: Camera axes (x right, y down, z forward) expressed in the body frame (forward, right, down).
BODY_FROM_CAMERA: FloatArray = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def ned_from_body(yaw_deg: FloatArray, pitch_deg: FloatArray, roll_deg: FloatArray) -> FloatArray:
    """(N, 3, 3) rotation Rz(yaw) @ Ry(pitch) @ Rx(roll), angles in degrees."""
    yaw, pitch, roll = np.radians(yaw_deg), np.radians(pitch_deg), np.radians(roll_deg)
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    rotation = np.empty((*yaw.shape, 3, 3))
    rotation[..., 0, 0] = cy * cp
    rotation[..., 0, 1] = cy * sp * sr - sy * cr
    rotation[..., 0, 2] = cy * sp * cr + sy * sr
    rotation[..., 1, 0] = sy * cp
    rotation[..., 1, 1] = sy * sp * sr + cy * cr
    rotation[..., 1, 2] = sy * sp * cr - cy * sr
    rotation[..., 2, 0] = -sp
    rotation[..., 2, 1] = cp * sr
    rotation[..., 2, 2] = cp * cr
    return rotation


def enu_axes(lat_deg: FloatArray, lon_deg: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """East, north and up unit vectors (each (N, 3), in ECEF) at geodetic latitude/longitude."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    slat, clat, slon, clon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = np.stack([-slon, clon, np.zeros_like(lon)], axis=-1)
    north = np.stack([-slat * clon, -slat * slon, clat], axis=-1)
    up = np.stack([clat * clon, clat * slon, slat], axis=-1)
    return east, north, up


def camera_to_ecef(
    rays_camera: FloatArray,
    yaw_deg: FloatArray,
    pitch_deg: FloatArray,
    roll_deg: FloatArray,
    *,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
) -> FloatArray:
    """Rotate camera-frame vectors (N, 3) into ECEF through body and the camera's local NED."""
    body = rays_camera @ BODY_FROM_CAMERA.T
    ned = np.einsum("nij,nj->ni", ned_from_body(yaw_deg, pitch_deg, roll_deg), body)
    east, north, up = enu_axes(lat_deg, lon_deg)
    ecef: FloatArray = ned[:, :1] * north + ned[:, 1:2] * east - ned[:, 2:3] * up
    return ecef


def to_enu(vectors: FloatArray, lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """Components (N, 3) east, north, up of ECEF vectors at the given geodetic positions."""
    east, north, up = enu_axes(lat_deg, lon_deg)
    return np.stack(
        [np.sum(vectors * east, -1), np.sum(vectors * north, -1), np.sum(vectors * up, -1)], -1
    )
