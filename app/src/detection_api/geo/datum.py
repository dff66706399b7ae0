"""Vertical datums: WGS84 ellipsoidal heights (HAE) and EGM96 geoid heights (MSL).

h_hae = H_msl + N(lat, lon), where N is the EGM96 undulation from the `egm96` package's
bundled 5' grid (no network at run time; bilinear, within 0.06 m of the full model).
"""

from __future__ import annotations

import egm96
import numpy as np

from detection_api.geo.arrays import BoolArray, FloatArray


def undulation(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """EGM96 geoid height above the WGS84 ellipsoid, metres; NaN where lat or lon is NaN."""
    known = np.isfinite(lat_deg) & np.isfinite(lon_deg)
    values = egm96.undulation(np.where(known, lat_deg, 0.0), np.where(known, lon_deg, 0.0))
    return np.where(known, np.asarray(values, dtype=np.float64), np.nan)


def to_hae(
    height: FloatArray, is_msl: BoolArray, lat_deg: FloatArray, lon_deg: FloatArray
) -> FloatArray:
    """Ellipsoidal heights from heights given in HAE or (where `is_msl`) in EGM96 MSL."""
    if not is_msl.any():
        return height
    result = height.copy()
    result[is_msl] += undulation(lat_deg[is_msl], lon_deg[is_msl])
    return result


def msl_to_hae(height: float, lat_deg: float, lon_deg: float) -> float:
    """Scalar convenience for callers holding one MSL height."""
    return height + float(undulation(np.array([lat_deg]), np.array([lon_deg]))[0])


def hae_to_msl(height: float, lat_deg: float, lon_deg: float) -> float:
    """Scalar inverse of `msl_to_hae`."""
    return height - float(undulation(np.array([lat_deg]), np.array([lon_deg]))[0])
