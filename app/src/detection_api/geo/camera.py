"""Pinhole camera with Brown-Conrady distortion (OpenCV's model): pixels to camera-frame rays.

Camera frame: x right, y down, z forward along the optical axis. Normalised image coordinates
(x/z, y/z) are what the distortion polynomial acts on, exactly as in OpenCV.
"""

from __future__ import annotations

import numpy as np

from detection_api.geo.arrays import FloatArray

#: Fixed-point iterations of the undistortion (OpenCV's cv::undistortPoints uses the same
#: scheme): at most this many, stopping once no coordinate moves by more than the tolerance.
UNDISTORT_ITERATIONS = 30
UNDISTORT_TOLERANCE = 1e-12


def distort(
    x: FloatArray, y: FloatArray, coefficients: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Apply distortion to normalised coordinates; `coefficients` is (N, 5): k1 k2 k3 p1 p2."""
    k1, k2, k3, p1, p2 = coefficients.T
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    x_distorted = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    y_distorted = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return x_distorted, y_distorted


def undistort(
    x_distorted: FloatArray, y_distorted: FloatArray, coefficients: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Invert `distort` by fixed-point iteration, as OpenCV's undistortPoints does.

    Each row stops on its own once it moves by less than the tolerance, so a pixel's answer
    never depends on the other rows of its batch.
    """
    k1, k2, k3, p1, p2 = coefficients.T
    x, y = x_distorted.copy(), y_distorted.copy()
    active = np.arange(len(x))
    for _ in range(UNDISTORT_ITERATIONS):
        xa, ya = x[active], y[active]
        r2 = xa * xa + ya * ya
        radial = 1.0 + r2 * (k1[active] + r2 * (k2[active] + r2 * k3[active]))
        pa, qa = p1[active], p2[active]
        x_next = (x_distorted[active] - 2.0 * pa * xa * ya - qa * (r2 + 2.0 * xa * xa)) / radial
        y_next = (y_distorted[active] - pa * (r2 + 2.0 * ya * ya) - 2.0 * qa * xa * ya) / radial
        x[active], y[active] = x_next, y_next
        moving = (np.abs(x_next - xa) > UNDISTORT_TOLERANCE) | (
            np.abs(y_next - ya) > UNDISTORT_TOLERANCE
        )
        active = active[moving]
        if not active.size:
            break
    return x, y


def pixel_rays(
    pixel_x: FloatArray,
    pixel_y: FloatArray,
    intrinsics: FloatArray,
    coefficients: FloatArray,
    distorted: np.ndarray,
) -> FloatArray:
    """Unit rays (N, 3) in the camera frame through the given pixels.

    `intrinsics` is (N, 4): fx fy cx cy. Only rows flagged in the boolean `distorted` pay for the
    iterative undistortion.
    """
    fx, fy, cx, cy = intrinsics.T
    with np.errstate(divide="ignore", invalid="ignore"):  # zero focal: NaN, refused later
        x = (pixel_x - cx) / fx
        y = (pixel_y - cy) / fy
    if distorted.any():
        x, y = x.copy(), y.copy()
        x[distorted], y[distorted] = undistort(x[distorted], y[distorted], coefficients[distorted])
    rays = np.stack([x, y, np.ones_like(x)], axis=-1)
    norm: FloatArray = np.linalg.norm(rays, axis=-1, keepdims=True)
    return rays / norm
