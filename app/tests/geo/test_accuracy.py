"""CE90 from a 2x2 covariance, the 90% ellipse, CoT 1-sigma conversions, TLE category, flag."""

from __future__ import annotations

import numpy as np
import pytest

from detection_api.geo import CE90_PER_SIGMA_CIRCULAR, LE90_PER_SIGMA, Category, Flag
from detection_api.geo.accuracy import (
    CATEGORIES,
    ELLIPSE90_SCALE,
    FLAGS,
    category_codes,
    ce90,
    ce_sigma,
    flag_codes,
    le_sigma,
    principal_axes,
)


def test_limits_are_the_textbook_constants() -> None:
    assert pytest.approx(2.1460, abs=1e-4) == CE90_PER_SIGMA_CIRCULAR
    assert pytest.approx(1.6449, abs=1e-4) == LE90_PER_SIGMA
    assert pytest.approx(4.605, abs=1e-3) == ELLIPSE90_SCALE**2
    assert ce90(np.array([1.0]), np.array([1.0]))[0] == pytest.approx(2.1460, abs=1e-4)
    assert ce90(np.array([1.0]), np.array([0.0]))[0] == pytest.approx(1.6449, abs=1e-4)


@pytest.mark.parametrize("ratio", [0.0, 0.05, 0.2, 0.5, 0.8, 1.0])
def test_ce90_holds_90_percent_of_an_elliptical_gaussian(ratio: float) -> None:
    rng = np.random.default_rng(11)
    samples = rng.standard_normal((400_000, 2)) * [3.0, 3.0 * ratio]
    radius = ce90(np.array([3.0]), np.array([3.0 * ratio]))[0]
    inside = np.mean(np.hypot(samples[:, 0], samples[:, 1]) <= radius)
    assert inside == pytest.approx(0.9, abs=0.002)
    if 0.0 < ratio <= 0.2:  # the circular formula on the RMS sigma is overconfident here
        naive = CE90_PER_SIGMA_CIRCULAR * np.sqrt((9.0 + 9.0 * ratio**2) / 2.0)
        naive_inside = np.mean(np.hypot(samples[:, 0], samples[:, 1]) <= naive)
        assert abs(naive_inside - 0.9) > 0.01


def test_principal_axes_and_orientation_from_north() -> None:
    # Major axis 30 deg clockwise from north: unit vector (east, north) = (sin 30, cos 30).
    angle = np.radians(30.0)
    axis = np.array([np.sin(angle), np.cos(angle)])
    normal = np.array([np.cos(angle), -np.sin(angle)])
    covariance = 16.0 * np.outer(axis, axis) + 1.0 * np.outer(normal, normal)
    major, minor, azimuth = principal_axes(covariance[None])
    assert major[0] == pytest.approx(4.0)
    assert minor[0] == pytest.approx(1.0)
    assert azimuth[0] == pytest.approx(30.0)
    flipped = principal_axes((16.0 * np.outer(normal, normal) + np.outer(axis, axis))[None])
    assert flipped[2][0] == pytest.approx(120.0)


def test_cot_one_sigma_conversions() -> None:
    assert ce_sigma(21.46) == pytest.approx(10.0, rel=1e-4)
    assert le_sigma(16.449) == pytest.approx(10.0, rel=1e-4)


@pytest.mark.parametrize(
    ("ce90_m", "category"),
    [
        (0.5, Category.CAT1),
        (6.99, Category.CAT1),
        (7.0, Category.CAT2),
        (15.0, Category.CAT2),
        (15.01, Category.CAT3),
        (30.0, Category.CAT3),
        (30.5, Category.CAT4),
        (91.0, Category.CAT4),
        (91.5, Category.CAT5),
        (305.0, Category.CAT5),
        (305.1, Category.CAT6),
    ],
)
def test_tle_categories(ce90_m: float, category: Category) -> None:
    assert CATEGORIES[category_codes(np.array([ce90_m]))[0]] is category


@pytest.mark.parametrize(
    ("ce90_m", "flag"),
    [
        (15.0, Flag.GREEN),
        (15.1, Flag.YELLOW),
        (91.0, Flag.YELLOW),
        (91.1, Flag.RED),
        (np.nan, Flag.RED),
    ],
)
def test_flag_thresholds(ce90_m: float, flag: Flag) -> None:
    assert FLAGS[flag_codes(np.array([ce90_m]), 15.0, 91.0)[0]] is flag


def test_flag_thresholds_are_configurable() -> None:
    assert FLAGS[flag_codes(np.array([20.0]), 25.0, 50.0)[0]] is Flag.GREEN
