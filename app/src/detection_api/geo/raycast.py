"""Ray casting in ECEF onto the WGS84 ellipsoid raised to a terrain height (a "plane").

The ray is intersected with the ellipsoid of semi-axes (a + h, b + h), which is within
centimetres of the surface of constant geodetic height h, then refined by Newton steps on the
geodetic height along the ray. MSL terrain heights are converted with the geoid undulation at
the current hit point, so the refinement also converges the datum conversion.
"""

from __future__ import annotations

import numpy as np
import pymap3d

from detection_api.geo.arrays import BoolArray, FloatArray
from detection_api.geo.datum import to_hae
from detection_api.geo.frames import up_axis

WGS84_A = 6_378_137.0
WGS84_B = 6_356_752.314245179
#: Newton steps after the raised-ellipsoid intersection; two reach the millimetre.
REFINE_ITERATIONS = 2


def raised_ellipsoid_hit(
    origin: FloatArray, direction: FloatArray, height_hae: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """Distance along unit rays to the ellipsoid raised by `height_hae`, and "origin inside".

    The distance is NaN where the ray misses the raised ellipsoid or it lies behind the origin.
    """
    scale = np.stack([WGS84_A + height_hae, WGS84_A + height_hae, WGS84_B + height_hae], -1)
    o, d = origin / scale, direction / scale
    qa = np.sum(d * d, -1)
    half_qb = np.sum(o * d, -1)
    qc = np.sum(o * o, -1) - 1.0
    discriminant = half_qb * half_qb - qa * qc
    with np.errstate(invalid="ignore"):
        distance = (-half_qb - np.sqrt(discriminant)) / qa
    distance = np.where(distance > 0.0, distance, np.nan)
    return distance, qc <= 0.0


def raised_height_through(points: FloatArray, hae: FloatArray) -> FloatArray:
    """The h whose raised ellipsoid (a + h, b + h) passes exactly through each ECEF point.

    Within centimetres of the point's geodetic height `hae`, which starts the Newton steps.
    Perturbed rays cast onto this surface need no geodetic refinement.
    """
    rho2 = points[:, 0] ** 2 + points[:, 1] ** 2
    z2 = points[:, 2] ** 2
    height = hae.copy()
    for _ in range(3):
        big, small = WGS84_A + height, WGS84_B + height
        residual = rho2 / big**2 + z2 / small**2 - 1.0
        slope = -2.0 * rho2 / big**3 - 2.0 * z2 / small**3
        height = height - residual / slope
    return height


def geodetic(points: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Latitude, longitude (degrees) and HAE of ECEF points (N, 3)."""
    lat, lon, hae = pymap3d.ecef2geodetic(points[:, 0], points[:, 1], points[:, 2])
    return np.asarray(lat), np.asarray(lon), np.asarray(hae)


def cast_on_height(
    origin: FloatArray,
    direction: FloatArray,
    *,
    camera_hae: FloatArray,
    height: FloatArray,
    is_msl: BoolArray,
    camera_lat: FloatArray,
    camera_lon: FloatArray,
    iterations: int = REFINE_ITERATIONS,
) -> tuple[FloatArray, BoolArray]:
    """Distance along each unit ray to the terrain height (HAE or MSL); NaN where it misses.

    Also returns where the camera is at or below that terrain height.
    """
    first_guess = to_hae(height, is_msl, camera_lat, camera_lon)
    distance, _ = raised_ellipsoid_hit(origin, direction, first_guess)
    below = camera_hae <= first_guess
    for _ in range(iterations):
        lat, lon, hae = geodetic(origin + distance[:, None] * direction)
        climb = np.sum(direction * up_axis(lat, lon), -1)
        distance = distance + (to_hae(height, is_msl, lat, lon) - hae) / climb
    return distance, below
