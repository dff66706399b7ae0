"""A synthetic drone flight: a loiter circle over a few ground targets, as detections.

The drone circles the targets at a fixed height with its camera pointed at the circle's centre.
Each step projects every target into the image with the TRUE pose (pinhole camera, the frame
conventions of ADR 0002) and reports what a real drone would: the pixel with detector noise and
a pose with GNSS and attitude errors drawn from the sigmas it also states. The truth travels
with each detection, so a demo can show the error next to the claimed CE90.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pymap3d

from detection_api.geo import Sigmas
from detection_api.geo.frames import BODY_FROM_CAMERA, ned_from_body

WIDTH, HEIGHT, FOCAL_PX = 1920, 1080, 1400.0
MARGIN_PX = 20.0


@dataclass(frozen=True)
class Target:
    name: str
    object_class: str
    lat: float
    lon: float
    hae: float = 0.0


#: One-sigma errors of what the drone reports (a gimbal with an RTK-less GNSS), also stated
#: in each request as its uncertainty. The terrain is known here (flat, HAE 0).
NOISE = Sigmas(
    horizontal_m=2.5, vertical_m=3.0, yaw_deg=1.0, pitch_deg=0.5, roll_deg=0.5, pixel=3.0
)
UNCERTAINTY_FIELDS = ("horizontal_m", "vertical_m", "yaw_deg", "pitch_deg", "roll_deg", "pixel")


@dataclass(frozen=True)
class Loiter:
    centre_lat: float = 48.1
    centre_lon: float = 11.5
    radius_m: float = 300.0
    height_m: float = 120.0  # above the (flat, HAE 0) ground
    speed_m_s: float = 15.0
    noise: Sigmas = NOISE


@dataclass(frozen=True)
class Sighting:
    """One detection to POST and the truth it came from."""

    body: dict[str, Any]
    target: Target


def targets_around(lat: float, lon: float) -> tuple[Target, ...]:
    """Four targets within ~120 m of a point: a car, a truck, a person and a boat."""
    offsets = (("car-1", "car", 40, -30), ("truck-1", "truck", -80, 50),
               ("person-1", "person", 15, 90), ("boat-1", "boat", -60, -110))  # fmt: skip
    found = []
    for name, object_class, east, north in offsets:
        target_lat, target_lon, _ = pymap3d.enu2geodetic(east, north, 0.0, lat, lon, 0.0)
        found.append(Target(name, object_class, float(target_lat), float(target_lon)))
    return tuple(found)


class Flight:
    def __init__(self, plan: Loiter, targets: tuple[Target, ...], seed: int = 7) -> None:
        self.plan, self.targets = plan, targets
        self._rng = np.random.default_rng(seed)

    def true_pose(self, t: float) -> tuple[float, float, float, float, float, float]:
        """lat, lon, hae, yaw, pitch, roll of the camera at `t` seconds into the loiter."""
        plan = self.plan
        angle = plan.speed_m_s * t / plan.radius_m
        east, north = plan.radius_m * math.sin(angle), plan.radius_m * math.cos(angle)
        lat, lon, hae = pymap3d.enu2geodetic(
            east, north, plan.height_m, plan.centre_lat, plan.centre_lon, 0.0
        )
        yaw = math.degrees(math.atan2(-east, -north)) % 360.0  # the gimbal looks at the centre
        pitch = -math.degrees(math.atan2(plan.height_m, plan.radius_m))
        roll = float(self._rng.normal(0.0, 2.0))  # the airframe rocks; the gimbal does not fully
        return float(lat), float(lon), float(hae), yaw, pitch, roll

    def sightings(self, t: float, captured_at: datetime) -> list[Sighting]:
        """Every target in view at `t`, as the drone would report it."""
        lat, lon, hae, yaw, pitch, roll = self.true_pose(t)
        rotation = ned_from_body(np.array([yaw]), np.array([pitch]), np.array([roll]))[0]
        camera_to_ned = rotation @ BODY_FROM_CAMERA
        found = []
        for target in self.targets:
            los = np.array(pymap3d.geodetic2ned(target.lat, target.lon, target.hae, lat, lon, hae))
            x, y, z = camera_to_ned.T @ los
            if z <= 0:
                continue
            u, v = FOCAL_PX * x / z + WIDTH / 2, FOCAL_PX * y / z + HEIGHT / 2
            if MARGIN_PX <= u <= WIDTH - MARGIN_PX and MARGIN_PX <= v <= HEIGHT - MARGIN_PX:
                body = self._report(target, (u, v), (lat, lon, hae, yaw, pitch, roll), captured_at)
                found.append(Sighting(body, target))
        return found

    def _report(
        self,
        target: Target,
        pixel: tuple[float, float],
        pose: tuple[float, float, float, float, float, float],
        captured_at: datetime,
    ) -> dict[str, Any]:
        noise, draw = self.plan.noise, self._rng.normal
        lat, lon, hae, yaw, pitch, roll = pose
        east, north = draw(0.0, noise.horizontal_m, 2)
        lat, lon, _ = pymap3d.enu2geodetic(east, north, 0.0, lat, lon, 0.0)
        return {
            "captured_at": captured_at.isoformat().replace("+00:00", "Z"),
            "source": "demo-drone",
            "camera_id": "eo-gimbal",
            "object": {"class": target.object_class, "confidence": round(draw(0.85, 0.05), 3)},
            "pixel": {
                "x": float(np.clip(pixel[0] + draw(0.0, noise.pixel), 0.0, WIDTH - 1)),
                "y": float(np.clip(pixel[1] + draw(0.0, noise.pixel), 0.0, HEIGHT - 1)),
            },
            "camera": {
                "image_width": WIDTH, "image_height": HEIGHT, "fx": FOCAL_PX, "fy": FOCAL_PX,
                "cx": WIDTH / 2, "cy": HEIGHT / 2,
            },
            "pose": {
                "lat": float(lat), "lon": float(lon), "alt": hae + draw(0.0, noise.vertical_m),
                "alt_datum": "hae", "yaw": (yaw + draw(0.0, noise.yaw_deg)) % 360.0,
                "pitch": pitch + draw(0.0, noise.pitch_deg),
                "roll": roll + draw(0.0, noise.roll_deg),
            },
            "uncertainty": {name: getattr(noise, name) for name in UNCERTAINTY_FIELDS},
            "terrain": {"height_m": 0.0, "datum": "hae"},
        }  # fmt: skip
