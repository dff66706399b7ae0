"""A digital elevation model held in memory: a regular latitude/longitude grid of heights.

Pure: no file access here (see `dem_io.load_dem` for GeoTIFFs). Heights are stored as WGS84
ellipsoidal heights (HAE); a model given in EGM96 MSL (most public DEMs) is converted post by
post when the `Dem` is built. Cells without data are NaN and count as "outside the DEM".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection_api.geo.arrays import FloatArray
from detection_api.geo.datum import undulation
from detection_api.geo.model import Datum

METRES_PER_DEGREE_LAT = 110_574.0  # at the equator, the smallest value: a safe post estimate


@dataclass(frozen=True)
class Dem:
    """Heights (rows, cols) at post centres lat = lat0 + row * dlat, lon = lon0 + col * dlon.

    `heights_hae` are metres above the WGS84 ellipsoid; `source_datum` records what the
    source gave. Build with `Dem.from_grid`.
    """

    heights_hae: FloatArray
    lat0: float
    lon0: float
    dlat: float
    dlon: float
    source_datum: Datum

    @classmethod
    def from_grid(
        cls,
        heights: FloatArray,
        *,
        lat0: float,
        lon0: float,
        dlat: float,
        dlon: float,
        datum: Datum,
    ) -> Dem:
        """A DEM from heights in `datum` at post centres (lat0 + row*dlat, lon0 + col*dlon)."""
        grid = np.array(heights, dtype=np.float64)
        if grid.ndim != 2 or min(grid.shape) < 2:
            raise ValueError("a DEM needs a 2-D grid of at least 2 x 2 posts")
        if dlat == 0.0 or dlon <= 0.0:
            raise ValueError("DEM spacing must be non-zero (dlat) and positive (dlon)")
        if Datum(datum) is Datum.MSL:
            lats = lat0 + dlat * np.arange(grid.shape[0])
            lons = lon0 + dlon * np.arange(grid.shape[1])
            lat_grid, lon_grid = np.meshgrid(lats, lons, indexing="ij")
            grid = grid + undulation(lat_grid, lon_grid)
        return cls(grid, float(lat0), float(lon0), float(dlat), float(dlon), Datum(datum))

    @property
    def post_spacing_m(self) -> float:
        """Smallest distance between neighbouring posts over the grid, metres."""
        lats = self.lat0 + self.dlat * np.array([0, self.heights_hae.shape[0] - 1])
        widest_lat = float(np.max(np.abs(lats)))
        east = abs(self.dlon) * METRES_PER_DEGREE_LAT * np.cos(np.radians(widest_lat))
        return float(min(abs(self.dlat) * METRES_PER_DEGREE_LAT, east))

    @property
    def height_range_hae(self) -> tuple[float, float]:
        """Lowest and highest terrain heights (HAE) in the model."""
        return float(np.nanmin(self.heights_hae)), float(np.nanmax(self.heights_hae))

    def _grid_position(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        return (lat - self.lat0) / self.dlat, (lon - self.lon0) / self.dlon

    def hae_at(self, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """Bilinear terrain height (HAE) at each point; NaN outside the grid or next to no-data."""
        rows, cols = self.heights_hae.shape
        fr, fc = self._grid_position(lat, lon)
        inside = (fr >= 0.0) & (fr <= rows - 1) & (fc >= 0.0) & (fc <= cols - 1)
        r0 = np.clip(np.floor(np.where(inside, fr, 0.0)).astype(np.intp), 0, rows - 2)
        c0 = np.clip(np.floor(np.where(inside, fc, 0.0)).astype(np.intp), 0, cols - 2)
        tr, tc = fr - r0, fc - c0
        grid = self.heights_hae
        top = grid[r0, c0] * (1.0 - tc) + grid[r0, c0 + 1] * tc
        bottom = grid[r0 + 1, c0] * (1.0 - tc) + grid[r0 + 1, c0 + 1] * tc
        return np.where(inside, top * (1.0 - tr) + bottom * tr, np.nan)

    def slope_at(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Terrain gradient (dh/d_east, dh/d_north), dimensionless, by central differences."""
        step_lat, step_lon = 0.25 * abs(self.dlat), 0.25 * self.dlon
        metres_north = step_lat * METRES_PER_DEGREE_LAT
        metres_east = step_lon * METRES_PER_DEGREE_LAT * np.cos(np.radians(lat))
        east = self.hae_at(lat, lon + step_lon) - self.hae_at(lat, lon - step_lon)
        north = self.hae_at(lat + step_lat, lon) - self.hae_at(lat - step_lat, lon)
        return east / (2.0 * metres_east), north / (2.0 * metres_north)
