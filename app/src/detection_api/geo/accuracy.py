"""From a horizontal 2x2 covariance to CE90, the 90% ellipse, CoT 1-sigma values, TLE and flag.

CE90 of a non-circular Gaussian is not 2.146 sigma of some circle: it is the radius R with
P(x^2 + y^2 <= R^2) = 0.9 for x ~ N(0, s1^2), y ~ N(0, s2^2) along the principal axes. With
rho = s2 / s1 in [0, 1], R = k(rho) * s1, and k runs from 1.6449 (a line, rho = 0) to 2.1460
(a circle, rho = 1). k is tabulated once by numerical integration (polar form, trapezoid rule,
which converges exponentially for this smooth periodic integrand) and interpolated.
"""

from __future__ import annotations

import functools

import numpy as np

from detection_api.geo.arrays import FloatArray, IntArray
from detection_api.geo.results import Category, Flag

PROBABILITY = 0.9
#: sqrt of the chi-square(2) 90% quantile, -2 ln(0.1) = 4.605: semi-axes of the 90% ellipse.
ELLIPSE90_SCALE = float(np.sqrt(-2.0 * np.log(1.0 - PROBABILITY)))
#: CE90 of a circular Gaussian in units of its per-axis sigma: sqrt(-2 ln 0.1) = 2.1460.
CE90_PER_SIGMA_CIRCULAR = ELLIPSE90_SCALE
#: 90% two-sided quantile of a normal: LE90 = 1.6449 sigma.
LE90_PER_SIGMA = 1.6448536269514722

_RHO_MIN = 0.02
_RHO_TABLE = np.concatenate([[0.0], np.linspace(_RHO_MIN, 1.0, 99)])
_QUADRATURE_POINTS = 1024

#: TLE categories by the upper CE90 bound (inclusive, metres) of each; CAT1 is strictly < 7 m.
CATEGORY_BOUNDS_M = (7.0, 15.0, 30.0, 91.0, 305.0)
CATEGORIES = tuple(Category)
FLAGS = tuple(Flag)


def _coverage(radius: FloatArray, rho: FloatArray) -> FloatArray:
    """P(inside the circle `radius`) for sigmas (1, rho), radius and rho broadcast (M, 1)."""
    theta = np.linspace(0.0, 2.0 * np.pi, _QUADRATURE_POINTS, endpoint=False)
    a = np.cos(theta) ** 2 + (np.sin(theta) / rho) ** 2
    integrand = -np.expm1(-0.5 * radius**2 * a) / a
    result: FloatArray = integrand.mean(axis=-1, keepdims=True) / rho
    return result


@functools.cache
def _k_table() -> FloatArray:
    """k(rho) with CE90 = k * sigma_major, for `_RHO_TABLE`; rho = 0 is the 1-D limit."""
    rho = _RHO_TABLE[1:, None]
    low, high = np.full_like(rho, LE90_PER_SIGMA), np.full_like(rho, CE90_PER_SIGMA_CIRCULAR)
    for _ in range(40):
        middle = 0.5 * (low + high)
        inside = _coverage(middle, rho) >= PROBABILITY
        high, low = np.where(inside, middle, high), np.where(inside, low, middle)
    return np.concatenate([[LE90_PER_SIGMA], 0.5 * (low + high)[:, 0]])


def principal_axes(covariance: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per (N, 2, 2) east/north covariance: sigma major, sigma minor, major axis azimuth (deg).

    The azimuth is clockwise from north in [0, 180).
    """
    var_e, var_n, cov_en = covariance[:, 0, 0], covariance[:, 1, 1], covariance[:, 0, 1]
    mean = 0.5 * (var_e + var_n)
    spread = np.hypot(0.5 * (var_e - var_n), cov_en)
    major = np.sqrt(mean + spread)
    minor = np.sqrt(np.maximum(mean - spread, 0.0))
    # Major-axis angle from east (counter-clockwise) is 0.5 atan2(2 c, ve - vn); azimuth = 90 - it.
    azimuth = np.mod(90.0 - 0.5 * np.degrees(np.arctan2(2.0 * cov_en, var_e - var_n)), 180.0)
    return major, minor, azimuth


def ce90(sigma_major: FloatArray, sigma_minor: FloatArray) -> FloatArray:
    """Exact CE90 (within 1e-4 relative) of a Gaussian with these principal sigmas."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(sigma_major > 0.0, sigma_minor / sigma_major, 1.0)
    k = np.interp(rho, _RHO_TABLE, _k_table())
    result: FloatArray = k * sigma_major
    return result


def ce_sigma(ce90_m: float) -> float:
    """CoT `ce`: the 1-sigma of the circular Gaussian whose CE90 equals `ce90_m`."""
    return ce90_m / CE90_PER_SIGMA_CIRCULAR


def le_sigma(le90_m: float) -> float:
    """CoT `le`: 1-sigma vertical error from LE90."""
    return le90_m / LE90_PER_SIGMA


def category_codes(ce90_m: FloatArray) -> IntArray:
    """Index into `CATEGORIES` (CAT1 = 0) for each CE90; CAT1 is < 7 m, then upper-inclusive."""
    codes = np.searchsorted(np.asarray(CATEGORY_BOUNDS_M), ce90_m, side="left")
    at_seven = ce90_m == CATEGORY_BOUNDS_M[0]
    return np.where(at_seven, 1, codes).astype(np.int8)


def flag_codes(ce90_m: FloatArray, green_max_m: float, yellow_max_m: float) -> IntArray:
    """Index into `FLAGS`: GREEN <= green_max, YELLOW <= yellow_max, RED above or NaN (refused)."""
    codes = np.full(ce90_m.shape, 2, dtype=np.int8)
    codes[ce90_m <= yellow_max_m] = 1
    codes[ce90_m <= green_max_m] = 0
    return codes
