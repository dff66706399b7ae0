"""The HTTP contract: request and response bodies of `/v1`.

Validation here is structural (types, ranges, required fields); the geolocation engine checks
the geometry (pixel inside the image, usable focal length) and raises `GeoInputError` with the
same field paths, which the API maps to the same 422 problem shape.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from detection_api.api.examples import example_detection

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """Only RFC 3339 date-times with a zone: no Unix timestamps, no bare dates."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValueError("expected an RFC 3339 date-time with a zone, e.g. 2026-12-03T12:00:00Z")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/-]+$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectedObject(Strict):
    class_: Annotated[str, Field(alias="class", min_length=1, max_length=64)]
    confidence: Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]


class Pixel(Strict):
    x: Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
    y: Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]


class Distortion(Strict):
    k1: Annotated[float, Field(strict=True, ge=-10, le=10, allow_inf_nan=False)] = 0.0
    k2: Annotated[float, Field(strict=True, ge=-10, le=10, allow_inf_nan=False)] = 0.0
    k3: Annotated[float, Field(strict=True, ge=-10, le=10, allow_inf_nan=False)] = 0.0
    p1: Annotated[float, Field(strict=True, ge=-1, le=1, allow_inf_nan=False)] = 0.0
    p2: Annotated[float, Field(strict=True, ge=-1, le=1, allow_inf_nan=False)] = 0.0


Positive = Annotated[float, Field(strict=True, gt=0.0, le=1e6, allow_inf_nan=False)]


class Camera(Strict):
    """Either pixel intrinsics (fx, fy, cx, cy) or a focal length with the sensor size."""

    image_width: Annotated[int, Field(strict=True, ge=1, le=100_000)]
    image_height: Annotated[int, Field(strict=True, ge=1, le=100_000)]
    fx: Positive | None = None
    fy: Positive | None = None
    cx: Finite | None = None
    cy: Finite | None = None
    focal_length_mm: (
        Annotated[float, Field(strict=True, gt=0.0, le=10_000, allow_inf_nan=False)] | None
    ) = None
    sensor_width_mm: (
        Annotated[float, Field(strict=True, gt=0.0, le=1_000, allow_inf_nan=False)] | None
    ) = None
    sensor_height_mm: (
        Annotated[float, Field(strict=True, gt=0.0, le=1_000, allow_inf_nan=False)] | None
    ) = None
    distortion: Distortion | None = None

    @model_validator(mode="after")
    def _one_intrinsics_form(self) -> Self:
        # Plain comparisons: this runs for every item of every batch.
        has_pixel = (
            self.fx is not None
            and self.fy is not None
            and self.cx is not None
            and self.cy is not None
        )
        has_sensor = (
            self.focal_length_mm is not None
            and self.sensor_width_mm is not None
            and self.sensor_height_mm is not None
        )
        if has_pixel == has_sensor:
            raise ValueError(
                "give either fx, fy, cx, cy or focal_length_mm, sensor_width_mm, sensor_height_mm"
            )
        return self


class Pose(Strict):
    lat: Annotated[float, Field(strict=True, ge=-90.0, le=90.0, allow_inf_nan=False)]
    lon: Annotated[float, Field(strict=True, ge=-180.0, le=180.0, allow_inf_nan=False)]
    alt: Annotated[float, Field(strict=True, ge=-500.0, le=50_000.0, allow_inf_nan=False)]
    alt_datum: Literal["hae", "msl"]
    yaw: Annotated[float, Field(strict=True, ge=-360.0, le=360.0, allow_inf_nan=False)]
    pitch: Annotated[float, Field(strict=True, ge=-90.0, le=90.0, allow_inf_nan=False)]
    roll: Annotated[float, Field(strict=True, ge=-180.0, le=180.0, allow_inf_nan=False)]


Sigma = Annotated[float, Field(strict=True, ge=0.0, le=10_000.0, allow_inf_nan=False)]


class Uncertainty(Strict):
    """1-sigma uncertainties of the inputs; omitted values take the documented defaults."""

    horizontal_m: Sigma | None = None
    vertical_m: Sigma | None = None
    yaw_deg: Annotated[float, Field(strict=True, ge=0.0, le=45.0, allow_inf_nan=False)] | None = (
        None
    )
    pitch_deg: Annotated[float, Field(strict=True, ge=0.0, le=45.0, allow_inf_nan=False)] | None = (
        None
    )
    roll_deg: Annotated[float, Field(strict=True, ge=0.0, le=45.0, allow_inf_nan=False)] | None = (
        None
    )
    pixel: Annotated[float, Field(strict=True, ge=0.0, le=1_000.0, allow_inf_nan=False)] | None = (
        None
    )


class Terrain(Strict):
    height_m: Annotated[float, Field(strict=True, ge=-500.0, le=9_000.0, allow_inf_nan=False)]
    datum: Literal["hae", "msl"] = "msl"


class DetectionIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [example_detection(datetime(2026, 12, 3, 12, tzinfo=UTC))]},
    )

    detection_id: UUID | None = None
    captured_at: Timestamp
    source: Name
    camera_id: Name
    object: DetectedObject
    pixel: Pixel
    camera: Camera
    pose: Pose
    uncertainty: Uncertainty | None = None
    terrain: Terrain | None = None
    image_sha256: Sha256 | None = None


class Location(Strict):
    lat: float
    lon: float
    hae: float


class Ellipse(Strict):
    semi_major_m: float
    semi_minor_m: float
    orientation_deg: float


class Accuracy(Strict):
    ce90_m: float | None
    le90_m: float | None
    ellipse: Ellipse | None
    category: Literal["CAT1", "CAT2", "CAT3", "CAT4", "CAT5", "CAT6"] | None
    flag: Literal["GREEN", "YELLOW", "RED"]
    refusal: str | None = Field(None, description="stable code when the engine refused the ray")
    reason: str | None = Field(None, description="why the engine refused the ray")


DeliveryState = Literal["queued", "delivered", "expired", "failed", "not_queued", "no_destinations"]


class Delivery(Strict):
    state: DeliveryState


class DetectionOut(Strict):
    detection_id: UUID
    received_at: datetime
    captured_at: datetime
    source: str
    camera_id: str
    object: DetectedObject
    location: Location | None
    accuracy: Accuracy
    cot_uid: str
    delivery: Delivery


class BatchIn(Strict):
    items: Annotated[list[DetectionIn], Field(min_length=1)]


class ProblemItem(Strict):
    code: str
    field: str | None
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details with a stable `code` and, for field errors, the field."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None
    errors: list[ProblemItem] | None = None


class BatchItemResult(Strict):
    index: int
    status: int
    detection: DetectionOut | None = None
    error: ProblemItem | None = None


class BatchOut(Strict):
    results: list[BatchItemResult]


class DetectionPage(Strict):
    items: list[DetectionOut]
    next_cursor: str | None
