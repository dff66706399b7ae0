"""The detection as a CoT event: plain, validated, immutable data."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal

Flag = Literal["GREEN", "YELLOW", "RED"]
FLAGS: Final = ("GREEN", "YELLOW", "RED")

UNKNOWN_ERROR: Final = 9999999.0
"""CoT's marker for an unknown ce/le; never a measured value."""

MACHINE_COMPUTED_HOW: Final = "m-f"
"""`how` for a photogrammetric fix: machine-derived by fusing the platform's GNSS/INS pose, the
camera model and the terrain. See docs/adr/0004-cot-mapping-and-how.md for why not m-g/m-i/h-c."""

SENSOR_COT_TYPE: Final = "a-f-G-E-S"
"""Default type of the camera/sensor in the `link` (friendly ground equipment, sensor)."""

_UID: Final = re.compile(r"^[A-Za-z0-9._:@-]{1,200}$")
_TYPE: Final = re.compile(r"^[a-z](-[A-Za-z0-9]+)*$")
_HOW: Final = re.compile(r"^[hm](-[a-z]+)*$")


class CotEventError(ValueError):
    """A field of a CoT event is invalid; the message names the field and the reason."""


@dataclass(frozen=True)
class Ellipse:
    """1-sigma error ellipse; orientation is the azimuth of the major axis, degrees clockwise
    from true north."""

    semi_major_m: float
    semi_minor_m: float
    orientation_deg: float

    def __post_init__(self) -> None:
        for name in ("semi_major_m", "semi_minor_m", "orientation_deg"):
            if not math.isfinite(getattr(self, name)):
                raise CotEventError(f"ellipse.{name}: must be finite")
        if not 0 <= self.semi_minor_m <= self.semi_major_m:
            raise CotEventError("ellipse: need 0 <= semi_minor_m <= semi_major_m")


@dataclass(frozen=True)
class DetectionEvent:
    """Everything a CoT event for one geolocated detection carries.

    `ce_m`/`le_m` are 1-sigma horizontal (circular) and vertical errors in metres; None means
    unknown and renders as 9999999. `time` is when the event was generated, `start` the capture
    time, `stale` when the map should drop it.
    """

    uid: str
    cot_type: str
    how: str
    time: datetime
    start: datetime
    stale: datetime
    lat: float
    lon: float
    hae: float
    ce_m: float | None
    le_m: float | None
    ellipse: Ellipse | None
    object_class: str
    confidence: float
    flag: Flag
    ce90_m: float | None
    category: str | None
    source: str
    camera_uid: str
    callsign: str
    late: bool = False
    camera_cot_type: str = SENSOR_COT_TYPE
    geopointsrc: str = "CALC"
    altsrc: str = "CALC"

    def __post_init__(self) -> None:
        self._check_identity()
        self._check_times()
        self._check_position()
        if self.flag not in FLAGS:
            raise CotEventError(f"flag: {self.flag!r} is not one of {', '.join(FLAGS)}")
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            raise CotEventError("confidence: must be within [0, 1]")

    def _check_identity(self) -> None:
        for name in ("uid", "camera_uid"):
            if not _UID.match(getattr(self, name)):
                raise CotEventError(f"{name}: 1-200 characters of [A-Za-z0-9._:@-]")
        for name in ("cot_type", "camera_cot_type"):
            if not _TYPE.match(getattr(self, name)):
                raise CotEventError(f"{name}: {getattr(self, name)!r} is not a CoT type")
        if not _HOW.match(self.how):
            raise CotEventError(f"how: {self.how!r} is not a CoT how (h-... or m-...)")
        if not self.callsign.strip():
            raise CotEventError("callsign: must not be blank")

    def _check_times(self) -> None:
        for name in ("time", "start", "stale"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise CotEventError(f"{name}: must be timezone-aware")
        if self.stale <= self.start:
            raise CotEventError("stale: must be after start")

    def _check_position(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise CotEventError("lat: must be within [-90, 90]")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise CotEventError("lon: must be within [-180, 180]")
        if not math.isfinite(self.hae):
            raise CotEventError("hae: must be finite")
        for name in ("ce_m", "le_m", "ce90_m"):
            value = getattr(self, name)
            if value is None:
                continue
            if not (math.isfinite(value) and 0.0 <= value < UNKNOWN_ERROR):
                raise CotEventError(
                    f"{name}: must be finite, >= 0 and < {UNKNOWN_ERROR:.0f} "
                    "(reserved for unknown; pass None instead)"
                )


def restamp(event: DetectionEvent, now: datetime, stale_after: timedelta) -> DetectionEvent:
    """A late copy of `event`: new generation and stale times, marked late.

    `start` stays the capture time, so a TAK user still sees when the object was there.
    """
    if stale_after <= timedelta(0):
        raise CotEventError("stale_after: must be positive")
    return replace(event, time=now, stale=now + stale_after, late=True)
