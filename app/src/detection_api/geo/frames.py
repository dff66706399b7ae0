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


def ecef_from_ned(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """(N, 3, 3) rotation whose columns are the north, east and down axes in ECEF."""
    east, north, up = enu_axes(lat_deg, lon_deg)
    return np.stack([north, east, -up], axis=-1)


def ecef_from_camera(
    yaw_deg: FloatArray, pitch_deg: FloatArray, roll_deg: FloatArray, ecef_ned: FloatArray
) -> FloatArray:
    """(N, 3, 3) rotation camera -> body -> NED -> ECEF, given `ecef_from_ned` matrices."""
    body = ned_from_body(yaw_deg, pitch_deg, roll_deg) @ BODY_FROM_CAMERA
    result: FloatArray = ecef_ned @ body
    return result


def rotate(rotations: FloatArray, vectors: FloatArray) -> FloatArray:
    """Apply (N, 3, 3) rotations to (N, 3) vectors."""
    result: FloatArray = np.einsum("nij,nj->ni", rotations, vectors)
    return result


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
    rotation = ecef_from_camera(yaw_deg, pitch_deg, roll_deg, ecef_from_ned(lat_deg, lon_deg))
    return rotate(rotation, rays_camera)


def up_axis(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """Unit ellipsoid normals (N, 3) in ECEF at geodetic latitude/longitude."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    clat = np.cos(lat)
    return np.stack([clat * np.cos(lon), clat * np.sin(lon), np.sin(lat)], axis=-1)


def to_enu(vectors: FloatArray, lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """East, north, up components of ECEF vectors (..., N, 3) at N geodetic positions."""
    axes = np.stack(enu_axes(lat_deg, lon_deg), axis=-2)  # (N, 3 axes, 3 ECEF)
    result: FloatArray = np.einsum("nij,...nj->...ni", axes, vectors)
    return result
