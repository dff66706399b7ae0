"""Propagation of the input sigmas into the horizontal covariance, CE90, 90% ellipse and LE90.

Each of the nine inputs (camera north, east and up; yaw, pitch, roll; pixel x and y; terrain
height) is moved by +1 and -1 sigma, and the perturbed rays are cast with the same caster as the
nominal one (one vectorised call over 18 N rays). Per input k, with a_k and b_k the displacements
of the hit point (east, north, up at the nominal hit) for +sigma and -sigma, the covariance is

    C = sum_k (a_k a_k^T + b_k b_k^T) / 2

which is the unscented transform with unit spread measured about the nominal solution. The
nominal ray is cast again alongside (same refinement), so an input with zero sigma contributes
exactly zero. Unlike a
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
from detection_api.geo.frames import ecef_from_camera, ecef_from_ned, enu_axes, rotate, to_enu
from detection_api.geo.model import GeoConfig
from detection_api.geo.raycast import raised_height_through
from detection_api.geo.rays import CastInputs, RayInputs

#: The perturbed inputs and the sigma (a `Sigmas` field) each is moved by, in row order.
PERTURBED_INPUTS = (
    ("north", "horizontal_m"),
    ("east", "horizontal_m"),
    ("up", "vertical_m"),
    ("yaw", "yaw_deg"),
    ("pitch", "pitch_deg"),
    ("roll", "roll_deg"),
    ("pixel_x", "pixel"),
    ("pixel_y", "pixel"),
    ("terrain", "terrain_m"),
)
#: Rows per observation in the perturbed cast: the nominal ray, then + and - per input.
COPIES = 1 + 2 * len(PERTURBED_INPUTS)
#: Perturbed plane rays are cast on the raised ellipsoid through the nominal hit point, with no
#: geodetic refinement: over the few hundred metres of a displacement it stays within
#: centimetres of the terrain height surface (and of the geoid's slope for MSL terrain).
PERTURBED_REFINE_ITERATIONS = 0


class Caster(Protocol):
    def __call__(
        self,
        rays: CastInputs,
        directions: FloatArray,
        config: GeoConfig,
        dem: Dem | None,
        *,
        refine_iterations: int = ...,
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


def _steps(rays: RayInputs) -> dict[str, FloatArray]:
    """Per input, the (2 N,) signed steps: +sigma for every row, then -sigma."""
    steps = {}
    for name, sigma_name in PERTURBED_INPUTS:
        sigma = rays.sigmas[:, SIGMA_COLUMNS.index(sigma_name)]
        steps[name] = np.concatenate([sigma, -sigma])
    return steps


def _directions(rays: RayInputs, steps: dict[str, FloatArray]) -> FloatArray:
    """Ray directions (19 N, 3): the nominal rays, then the row order of PERTURBED_INPUTS.

    Only attitude and pixel perturbations turn the ray; the others reuse the nominal direction,
    and the (iterative) undistortion runs only for the shifted pixels.
    """
    ecef_ned = np.tile(ecef_from_ned(rays.camera_lat, rays.camera_lon), (2, 1, 1))
    attitude = {name: np.tile(getattr(rays, name), 2) for name in ("yaw", "pitch", "roll")}
    pixels = {name: np.tile(getattr(rays, name), 2) for name in ("pixel_x", "pixel_y")}
    camera = rays.camera_rays(pixels["pixel_x"], pixels["pixel_y"], copies=2)
    rotation = ecef_from_camera(attitude["yaw"], attitude["pitch"], attitude["roll"], ecef_ned)
    nominal = rotate(rotation, camera)
    blocks = [nominal[: len(rays)]]
    for name, _ in PERTURBED_INPUTS:
        if name in attitude:
            turned = {**attitude, name: attitude[name] + steps[name]}
            turned_rotation = ecef_from_camera(
                turned["yaw"], turned["pitch"], turned["roll"], ecef_ned
            )
            blocks.append(rotate(turned_rotation, camera))
        elif name in pixels:
            moved = {**pixels, name: pixels[name] + steps[name]}
            blocks.append(rotate(rotation, rays.camera_rays(**moved, copies=2)))
        else:
            blocks.append(nominal)
    return np.concatenate(blocks)


def _cast_inputs(
    rays: RayInputs, steps: dict[str, FloatArray], surface_height: FloatArray
) -> CastInputs:
    """Camera positions and terrain of the nominal and the 18 N perturbed rays; plane rows use
    the raised ellipsoid `surface_height` (HAE) through their nominal hit."""
    east, north, up = enu_axes(rays.camera_lat, rays.camera_lon)
    axes = {"north": north, "east": east, "up": up}
    origin_blocks, height_blocks = [rays.origin], [rays.camera_hae]
    offset_blocks = [rays.terrain_offset]
    zero = np.zeros(2 * len(rays))
    for name, _ in PERTURBED_INPUTS:
        step = steps[name][:, None] * np.tile(axes[name], (2, 1)) if name in axes else 0.0
        origin_blocks.append(np.tile(rays.origin, (2, 1)) + step)
        height_blocks.append(np.tile(rays.camera_hae, 2) + (steps[name] if name == "up" else zero))
        offset_blocks.append(steps[name] if name == "terrain" else zero)
    plane_height = np.where(rays.use_dem, rays.plane_height, surface_height)
    return rays.cast_inputs().tile(
        COPIES,
        origin=np.concatenate(origin_blocks),
        camera_hae=np.concatenate(height_blocks),
        terrain_offset=np.concatenate(offset_blocks),
        plane_height=np.tile(plane_height, COPIES),
        plane_is_msl=np.tile(rays.plane_is_msl & rays.use_dem, COPIES),
    )


def propagate(
    rays: RayInputs,
    points: FloatArray,
    *,
    lat: FloatArray,
    lon: FloatArray,
    hae: FloatArray,
    caster: Caster,
    config: GeoConfig,
    dem: Dem | None,
) -> Accuracy:
    """Accuracy of the solved rays, whose nominal hits are `points` (ECEF) at `lat, lon, hae`."""
    size = len(rays)
    steps = _steps(rays)
    directions = _directions(rays, steps)
    inputs = _cast_inputs(rays, steps, raised_height_through(points, hae))
    distance, refusal = caster(
        inputs, directions, config, dem, refine_iterations=PERTURBED_REFINE_ITERATIONS
    )
    moved = (inputs.origin + distance[:, None] * directions).reshape(COPIES, size, 3)
    enu = to_enu(moved[1:] - moved[0], lat, lon)
    horizontal = enu[..., :2]
    covariance = 0.5 * np.einsum("kni,knj->nij", horizontal, horizontal)
    vertical_variance = 0.5 * np.sum(enu[..., 2] ** 2, axis=0)
    unbounded = (refusal.reshape(COPIES, size)[1:] != 0).any(axis=0)
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
