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

Layout: every per-ray quantity is a (COPIES, N) block: row 0 the nominal rays, then the +sigma
and -sigma rows of each input in PERTURBED_INPUTS order, built by broadcasting (a few dozen numpy
calls whatever N is: for the small batches of single requests this fixed cost is what counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from detection_api.geo.accuracy import ELLIPSE90_SCALE, LE90_PER_SIGMA, ce90, principal_axes
from detection_api.geo.arrays import BoolArray, FloatArray, IntArray
from detection_api.geo.batch import SIGMA_COLUMNS
from detection_api.geo.dem import Dem
from detection_api.geo.frames import ecef_from_camera, ecef_from_ned, enu_axes, to_enu
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


#: Row of the +sigma ray of each input in the (COPIES, N) layout; the -sigma ray is the next row.
_PLUS_ROW = {name: 1 + 2 * k for k, (name, _) in enumerate(PERTURBED_INPUTS)}
_ATTITUDE = ("yaw", "pitch", "roll")
_PIXELS = ("pixel_x", "pixel_y")
#: The rows whose ray turns (attitude) or moves on the image (pixels), after the nominal row 0.
_TURNED = np.array([0, *(_PLUS_ROW[name] + sign for name in _ATTITUDE for sign in (0, 1))])
_SHIFTED = np.array([0, *(_PLUS_ROW[name] + sign for name in _PIXELS for sign in (0, 1))])
#: Per row, which of the distinct rotations (rows of _TURNED) and camera rays (rows of _SHIFTED)
#: builds its direction: every other row reuses the nominal ones (index 0).
_ROTATION_OF_ROW = np.zeros(COPIES, dtype=np.intp)
_ROTATION_OF_ROW[_TURNED] = np.arange(len(_TURNED))
_CAMERA_RAY_OF_ROW = np.zeros(COPIES, dtype=np.intp)
_CAMERA_RAY_OF_ROW[_SHIFTED] = np.arange(len(_SHIFTED))


def _rows(name: str) -> slice:
    """The +sigma and -sigma rows of one input."""
    return slice(_PLUS_ROW[name], _PLUS_ROW[name] + 2)


def _steps(rays: RayInputs) -> FloatArray:
    """(COPIES, N) signed step of every row: 0 for the nominal, then +sigma, -sigma per input."""
    columns = [SIGMA_COLUMNS.index(sigma_name) for _, sigma_name in PERTURBED_INPUTS]
    sigma = rays.sigmas[:, columns].T  # (inputs, N)
    steps = np.zeros((COPIES, len(rays)))
    steps[1::2], steps[2::2] = sigma, -sigma
    return steps


def _moved(value: FloatArray, steps: FloatArray, name: str, rows: np.ndarray | slice) -> FloatArray:
    """`value` (N,) in each of `rows`, moved by the step where the row perturbs input `name`."""
    moved = np.broadcast_to(value, steps.shape).copy()
    moved[_rows(name)] += steps[_rows(name)]
    return moved[rows]


def _directions(rays: RayInputs, steps: FloatArray) -> FloatArray:
    """Ray directions (COPIES N, 3): the nominal rays, then the row order of PERTURBED_INPUTS.

    Only attitude and pixel perturbations turn the ray: seven distinct rotations and five
    distinct camera rays are built (the iterative undistortion runs for the shifted pixels
    only), and every row combines one of each.
    """
    size = len(rays)
    yaw, pitch, roll = (_moved(getattr(rays, a), steps, a, _TURNED) for a in _ATTITUDE)
    rotations = ecef_from_camera(yaw, pitch, roll, ecef_from_ned(rays.camera_lat, rays.camera_lon))
    pixel_x, pixel_y = (_moved(getattr(rays, p), steps, p, _SHIFTED) for p in _PIXELS)
    camera = rays.camera_rays(pixel_x.ravel(), pixel_y.ravel(), copies=len(_SHIFTED))
    directions: FloatArray = np.einsum(
        "knij,knj->kni",
        rotations[_ROTATION_OF_ROW],
        camera.reshape(len(_SHIFTED), size, 3)[_CAMERA_RAY_OF_ROW],
    )
    return directions.reshape(-1, 3)


def _cast_inputs(rays: RayInputs, steps: FloatArray, surface_height: FloatArray) -> CastInputs:
    """Camera positions and terrain of the nominal and the perturbed rays (COPIES N rows); plane
    rows use the raised ellipsoid `surface_height` (HAE) through their nominal hit."""
    east, north, up = enu_axes(rays.camera_lat, rays.camera_lon)
    origin = np.broadcast_to(rays.origin, (*steps.shape, 3)).copy()
    for name, axis in (("north", north), ("east", east), ("up", up)):
        origin[_rows(name)] += steps[_rows(name), :, None] * axis
    every_row = slice(None)
    plane_height = np.where(rays.use_dem, rays.plane_height, surface_height)
    return rays.cast_inputs().tile(
        COPIES,
        origin=origin.reshape(-1, 3),
        camera_hae=_moved(rays.camera_hae, steps, "up", every_row).ravel(),
        terrain_offset=_moved(rays.terrain_offset, steps, "terrain", every_row).ravel(),
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
