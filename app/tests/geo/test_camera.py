"""Camera model: OpenCV's Brown-Conrady distortion and its inverse, pixels to rays, frames."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from detection_api.geo.camera import distort, pixel_rays, undistort
from detection_api.geo.frames import camera_to_ecef, enu_axes, ned_from_body


def test_distortion_matches_the_opencv_formula_by_hand() -> None:
    # x = 0.3, y = -0.2: r2 = 0.13; radial = 1 + 0.13 k1 + 0.0169 k2 + 0.002197 k3.
    k1, k2, k3, p1, p2 = -0.2, 0.05, 0.01, 1e-3, -2e-3
    radial = 1 + 0.13 * k1 + 0.0169 * k2 + 0.002197 * k3
    expected_x = 0.3 * radial + 2 * p1 * 0.3 * -0.2 + p2 * (0.13 + 2 * 0.09)
    expected_y = -0.2 * radial + p1 * (0.13 + 2 * 0.04) + 2 * p2 * 0.3 * -0.2
    x, y = distort(np.array([0.3]), np.array([-0.2]), np.array([[k1, k2, k3, p1, p2]]))
    assert np.allclose([x[0], y[0]], [expected_x, expected_y], atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(-0.7, 0.7),
    y=st.floats(-0.5, 0.5),
    k1=st.floats(-0.3, 0.1),
    k2=st.floats(-0.05, 0.05),
    p=st.floats(-2e-3, 2e-3),
)
def test_undistort_inverts_distort(x: float, y: float, k1: float, k2: float, p: float) -> None:
    coefficients = np.array([[k1, k2, 0.0, p, -p]])
    xd, yd = distort(np.array([x]), np.array([y]), coefficients)
    xu, yu = undistort(xd, yd, coefficients)
    assert abs(xu[0] - x) < 1e-9
    assert abs(yu[0] - y) < 1e-9


def test_principal_point_ray_is_the_optical_axis() -> None:
    rays = pixel_rays(
        np.array([2000.0, 4000.0]),
        np.array([1500.0, 1500.0]),
        np.array([[2000.0, 2000.0, 2000.0, 1500.0]] * 2),
        np.zeros((2, 5)),
        np.zeros(2, dtype=bool),
    )
    assert np.allclose(rays[0], [0.0, 0.0, 1.0])
    assert np.allclose(rays[1], np.array([1.0, 0.0, 1.0]) / np.sqrt(2.0))  # 45 deg to the right


def test_zero_attitude_looks_north_along_the_horizon() -> None:
    forward = np.array([[0.0, 0.0, 1.0]])
    zero, lat, lon = np.zeros(1), np.array([45.0]), np.array([7.0])
    direction = camera_to_ecef(forward, zero, zero, zero, lat_deg=lat, lon_deg=lon)
    _, north, _ = enu_axes(lat, lon)
    assert np.allclose(direction, north)


def test_attitude_signs() -> None:
    """Yaw 90 looks east; pitch -30 looks 30 deg down; roll +10 tips the image's right side down."""
    rotation = ned_from_body(np.array([90.0]), np.array([-30.0]), np.array([10.0]))[0]
    forward = rotation @ [1.0, 0.0, 0.0]
    assert np.allclose(forward, [0.0, np.cos(np.radians(30)), np.sin(np.radians(30))])
    level = ned_from_body(np.zeros(1), np.zeros(1), np.array([10.0]))[0]
    right_wing = level @ [0.0, 1.0, 0.0]
    assert right_wing[2] > 0.0  # NED down component: right side goes down
    assert np.allclose(rotation @ rotation.T, np.eye(3))
