"""Requests and solutions as the engine's inputs and the store's rows (pure mappings)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from detection_api import geo
from detection_api.api.schemas import DetectionIn


def to_observation(item: DetectionIn, config: geo.GeoConfig) -> geo.Observation:
    """The engine's view of a request; raises GeoInputError naming the request field."""
    camera = item.camera
    distortion = geo.Distortion(**camera.distortion.model_dump()) if camera.distortion else None
    if (
        camera.fx is not None
        and camera.fy is not None
        and camera.cx is not None
        and camera.cy is not None
    ):
        intrinsics = geo.CameraIntrinsics(
            camera.image_width, camera.image_height, camera.fx, camera.fy, camera.cx, camera.cy,
            distortion,
        )  # fmt: skip
    else:
        # The schema requires the three sensor fields together when fx..cy are absent.
        intrinsics = geo.CameraIntrinsics.from_sensor(
            camera.image_width, camera.image_height, camera.focal_length_mm or 0.0,
            camera.sensor_width_mm or 0.0, camera.sensor_height_mm or 0.0, distortion,
        )  # fmt: skip
    pose = item.pose
    given = item.uncertainty.model_dump(exclude_none=True) if item.uncertainty else {}
    observation = geo.Observation(
        pixel_x=item.pixel.x,
        pixel_y=item.pixel.y,
        camera=intrinsics,
        pose=geo.CameraPose(
            pose.lat, pose.lon, pose.alt, geo.Datum(pose.alt_datum), pose.yaw, pose.pitch, pose.roll
        ),
        sigmas=replace(config.default_sigmas, **given),
        terrain_height_m=item.terrain.height_m if item.terrain else None,
        terrain_datum=geo.Datum(item.terrain.datum) if item.terrain else geo.Datum.HAE,
    )
    geo.validate(observation)
    return observation


def solution_columns(solution: geo.Solution) -> dict[str, Any]:
    return {
        "lat": solution.lat,
        "lon": solution.lon,
        "hae": solution.hae,
        "ce90_m": solution.ce90_m,
        "le90_m": solution.le90_m,
        "ellipse_semi_major_m": solution.ellipse_semi_major_m,
        "ellipse_semi_minor_m": solution.ellipse_semi_minor_m,
        "ellipse_orientation_deg": solution.ellipse_orientation_deg,
        "category": solution.category.value if solution.category else None,
        "flag": solution.flag.value,
        "refusal": solution.refusal.value if solution.refusal else None,
        "slant_range_m": solution.slant_range_m,
        "depression_deg": solution.depression_deg,
    }


def event_payload(row: dict[str, Any], solution: geo.Solution) -> dict[str, Any]:
    """The CoT event as data; the delivery worker renders it when it sends.

    CoT carries 1-sigma errors: the 90% ellipse scales down by the 2-D chi-square 90% radius
    (2.146, the same factor as CE90 of a circular Gaussian); ce/le are the engine's 1-sigma.
    """
    ellipse_sigma = None
    if solution.ellipse_semi_major_m is not None and solution.ellipse_semi_minor_m is not None:
        scale = geo.CE90_PER_SIGMA_CIRCULAR
        ellipse_sigma = {
            "semi_major_m": solution.ellipse_semi_major_m / scale,
            "semi_minor_m": solution.ellipse_semi_minor_m / scale,
            "orientation_deg": solution.ellipse_orientation_deg,
        }
    return {
        "uid": row["cot_uid"],
        "lat": solution.lat,
        "lon": solution.lon,
        "hae": solution.hae,
        "ce_sigma_m": solution.ce_sigma_m,
        "le_sigma_m": solution.le_sigma_m,
        "ellipse_sigma": ellipse_sigma,
        "object_class": row["object_class"],
        "confidence": row["confidence"],
        "flag": solution.flag.value,
        "ce90_m": solution.ce90_m,
        "category": solution.category.value if solution.category else None,
        "source": row["source"],
        "camera_id": row["camera_id"],
        "captured_at": row["captured_at"].isoformat(),
    }
