"""The chart's values and rendered manifests as data: what the deploy toolkit's renders, the
readiness checks and the chart tests all read."""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]
PodSpec = dict[str, Any]

WORKLOAD_KINDS = frozenset({"Deployment", "Job", "StatefulSet", "DaemonSet"})


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two values mappings the way helm merges values files (maps merge, the rest is
    replaced)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def pod_specs(manifests: list[Manifest]) -> list[tuple[str, PodSpec]]:
    """(object name, pod spec) of every workload in a render, hooks and CronJobs included."""
    pods = []
    for manifest in manifests:
        spec = manifest.get("spec", {})
        name = manifest["metadata"]["name"]
        if manifest["kind"] in WORKLOAD_KINDS:
            pods.append((name, spec["template"]["spec"]))
        elif manifest["kind"] == "CronJob":
            pods.append((name, spec["jobTemplate"]["spec"]["template"]["spec"]))
    return pods
