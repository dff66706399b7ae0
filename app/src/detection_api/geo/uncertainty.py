"""Propagation of the input sigmas into the horizontal covariance, CE90, 90% ellipse and LE90.

Each of the nine inputs (camera north, east and up; yaw, pitch, roll; pixel x and y; terrain
height) is moved by +1 and -1 sigma, and the perturbed rays are cast with the same caster as the
nominal one (one vectorised call over 18 N rays). Per input k, with a_k and b_k the displacements
of the hit point (east, north, up at the nominal hit) for +sigma and -sigma, the covariance is

    C = sum_k (a_k a_k^T + b_k b_k^T) / 2

which is the unscented transform with unit spread measured about the nominal solution. Unlike a
derivative at the nominal point it feels the asymmetry of flat rays (a ray raised by one sigma
lands much farther than a lowered one lands nearer), so low-depression cases are not reported
overconfident. Errors of independent inputs add; cross-terms are zero by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from detection_api.geo.accuracy import ELLIPSE90_SCALE, LE90_PER_SIGMA, ce90, principal_axes
from detection_api.geo.arrays import BoolArray, FloatArray, IntArray
from detection_api.geo.batch import SIGMA_COLUMNS
from detection_api.geo.dem import Dem
from detection_api.geo.frames import enu_axes, to_enu
from detection_api.geo.model import GeoConfig
from detection_api.geo.rays import RayInputs

#: The perturbed inputs, in order; each is moved by +sigma then -sigma.
PERTURBED_INPUTS = (
    "north",
    "east",
    "up",
    "yaw",
    "pitch",
    "roll",
    "pixel_x",
    "pixel_y",
    "terrain",
)
_SIGMA_OF_INPUT = {
    "north": "horizontal_m",
    "east": "horizontal_m",
    "up": "vertical_m",
    "yaw": "yaw_deg",
    "pitch": "pitch_deg",
    "roll": "roll_deg",
    "pixel_x": "pixel",
    "pixel_y": "pixel",
    "terrain": "terrain_m",
}


class Caster(Protocol):
    def __call__(
        self, rays: RayInputs, directions: FloatArray, config: GeoConfig, dem: Dem | None
    ) -> tuple[FloatArray, IntArray]: ...


@dataclass(frozen=True)
class Accuracy:
    """Per solved ray: CE90, 90% ellipse, LE90, and where a perturbed ray found no ground."""

    ce90_m: FloatArray
    le90_m: FloatArray
    semi_major_m: FloatArray
    semi_minor_m: FloatArray
    orientation_deg: FloatArray
    unbounded: BoolArray


def _deltas(rays: RayInputs) -> dict[str, FloatArray]:
    """(2 * 9, N) signed steps: row 2k is +sigma of input k, row 2k + 1 is -sigma."""
    size = len(rays)
    steps: dict[str, FloatArray] = {}
    for position, name in enumerate(PERTURBED_INPUTS):
        sigma = rays.sigmas[:, SIGMA_COLUMNS.index(_SIGMA_OF_INPUT[name])]
        delta = np.zeros((2 * len(PERTURBED_INPUTS), size))
        delta[2 * position] = sigma
        delta[2 * position + 1] = -sigma
        steps[name] = delta
    return steps


def perturbed(rays: RayInputs) -> RayInputs:
    """The 18 N perturbed copies of `rays`, in the row order of `_deltas`."""
    steps = _deltas(rays)
    copies = 2 * len(PERTURBED_INPUTS)
    east, north, up = enu_axes(rays.camera_lat, rays.camera_lon)
    shift = (
        steps["north"][..., None] * north
        + steps["east"][..., None] * east
        + steps["up"][..., None] * up
    )
    tiled = rays.tile(copies)
    return tiled.with_columns(
        origin=tiled.origin + shift.reshape(-1, 3),
        camera_hae=tiled.camera_hae + steps["up"].ravel(),
        yaw=tiled.yaw + steps["yaw"].ravel(),
        pitch=tiled.pitch + steps["pitch"].ravel(),
        roll=tiled.roll + steps["roll"].ravel(),
        pixel_x=tiled.pixel_x + steps["pixel_x"].ravel(),
        pixel_y=tiled.pixel_y + steps["pixel_y"].ravel(),
        terrain_offset=tiled.terrain_offset + steps["terrain"].ravel(),
    )


def propagate(
    rays: RayInputs,
    points: FloatArray,
    *,
    lat: FloatArray,
    lon: FloatArray,
    caster: Caster,
    config: GeoConfig,
    dem: Dem | None,
) -> Accuracy:
    """Accuracy of the solved rays whose nominal hit points (ECEF) and positions are given."""
    copies = 2 * len(PERTURBED_INPUTS)
    moved = perturbed(rays)
    directions = moved.directions()
    distance, refusal = caster(moved, directions, config, dem)
    moved_points = moved.origin + distance[:, None] * directions
    offsets = moved_points.reshape(copies, len(rays), 3) - points
    enu = to_enu(offsets.reshape(-1, 3), np.tile(lat, copies), np.tile(lon, copies))
    enu = enu.reshape(copies, len(rays), 3)
    horizontal = enu[..., :2]
    covariance = 0.5 * np.einsum("kni,knj->nij", horizontal, horizontal)
    vertical_variance = 0.5 * np.sum(enu[..., 2] ** 2, axis=0)
    unbounded = (refusal.reshape(copies, len(rays)) != 0).any(axis=0)
    covariance[unbounded] = np.nan
    major, minor, azimuth = principal_axes(covariance)
    return Accuracy(
        ce90_m=ce90(major, minor),
        le90_m=LE90_PER_SIGMA * np.sqrt(vertical_variance),
        semi_major_m=ELLIPSE90_SCALE * major,
        semi_minor_m=ELLIPSE90_SCALE * minor,
        orientation_deg=azimuth,
        unbounded=unbounded,
    )
