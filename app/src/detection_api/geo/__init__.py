"""Geolocation engine: pixel + camera intrinsics + pose -> WGS84 position with calibrated accuracy.

Pure and vectorised (numpy, pymap3d, egm96). `solve` takes observations; `solve_batch` takes a
struct-of-arrays `ObservationBatch` and is what `solve` runs with N = len(observations).
Frames and datums: docs/adr/0002-geolocation-frames-and-datums.md.
"""

from __future__ import annotations

from detection_api.geo.accuracy import CE90_PER_SIGMA_CIRCULAR, LE90_PER_SIGMA
from detection_api.geo.batch import SIGMA_COLUMNS, ObservationBatch, SolutionBatch
from detection_api.geo.dem import Dem
from detection_api.geo.dem_io import DemFileError, load_dem
from detection_api.geo.model import (
    CameraIntrinsics,
    CameraPose,
    Datum,
    Distortion,
    GeoConfig,
    Observation,
    Sigmas,
)
from detection_api.geo.results import (
    Category,
    Flag,
    GeoInputError,
    Refusal,
    Solution,
)
from detection_api.geo.solver import solve, solve_batch
from detection_api.geo.validation import validate

__all__ = [
    "CE90_PER_SIGMA_CIRCULAR",
    "LE90_PER_SIGMA",
    "SIGMA_COLUMNS",
    "CameraIntrinsics",
    "CameraPose",
    "Category",
    "Datum",
    "Dem",
    "DemFileError",
    "Distortion",
    "Flag",
    "GeoConfig",
    "GeoInputError",
    "Observation",
    "ObservationBatch",
    "Refusal",
    "Sigmas",
    "Solution",
    "SolutionBatch",
    "load_dem",
    "solve",
    "solve_batch",
    "validate",
]
