"""Adapter: read a GeoTIFF elevation model into an in-memory `Dem` (the only file I/O of geo).

rasterio is imported inside `load_dem` so the pure engine never loads GDAL unless a DEM file is
actually read; it is the optional `dem` extra, which the default image leaves out. Only north-up
rasters in geographic WGS84 (EPSG:4326) are accepted: reprojecting a projected DEM is a
preprocessing step (e.g. `gdalwarp -t_srs EPSG:4326`), not a request-time one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detection_api.geo.dem import Dem
from detection_api.geo.model import Datum


class DemFileError(ValueError):
    """The file is not a DEM the engine can use; the message says why."""


def load_dem(path: str | Path, datum: Datum = Datum.MSL, band: int = 1) -> Dem:
    """Load band `band` of a GeoTIFF whose heights are in `datum` (public DEMs are mostly MSL).

    No-data cells become NaN, which the ray marcher treats as unknown terrain.
    """
    try:
        import rasterio  # noqa: PLC0415 (kept out of the pure import path on purpose)
    except ImportError:  # the slim image leaves GDAL out (about 120 MB)
        raise DemFileError(
            f"{path}: reading a DEM needs the `dem` extra (rasterio): install detection-api[dem], "
            "or build the image with --build-arg EXTRAS=dem"
        ) from None

    with rasterio.open(path) as source:
        if source.crs is None or source.crs.to_epsg() != 4326:
            raise DemFileError(f"{path}: CRS must be EPSG:4326 (WGS84 lat/lon), got {source.crs}")
        transform = source.transform
        if transform.b != 0.0 or transform.d != 0.0:
            raise DemFileError(f"{path}: rotated rasters are not supported")
        heights = source.read(band, masked=True).astype(np.float64).filled(np.nan)
    # Post centres sit half a pixel in from the raster's corner coordinates.
    return Dem.from_grid(
        heights,
        lat0=transform.f + 0.5 * transform.e,
        lon0=transform.c + 0.5 * transform.a,
        dlat=transform.e,
        dlon=transform.a,
        datum=datum,
    )
