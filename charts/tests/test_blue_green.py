"""Blue/green: a Deployment per colour; switching activeColor restarts no pod."""

from __future__ import annotations

from typing import Any

import pytest

from charts.tests.conftest import BOTH_SCALED, ENVIRONMENTS, RELEASE, Helm, named
from detection_ops.deploy.manifests import Manifest, merge_values, of_kind

RELEASE_CONFIGMAP = f"{RELEASE}-release"


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Paths (a.b[0].c) at which two parsed documents differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            diff
            for key in sorted(set(before) | set(after))
            for diff in differences(before.get(key), after.get(key), f"{path}.{key}")
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            diff
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for diff in differences(old, new, f"{path}[{index}]")
        ]
    return [] if before == after else [path]


def by_identity(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {f"{m['kind']}/{m['metadata']['name']}": m for m in manifests}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_switching_active_color_changes_only_service_selectors_and_published_color(
    helm: Helm, environment: str
) -> None:
    blue = by_identity(helm.template(environment, {"activeColor": "blue", **BOTH_SCALED}))
    green = by_identity(helm.template(environment, {"activeColor": "green", **BOTH_SCALED}))
    assert set(blue) == set(green)
    changed = {
        identity: differences(blue[identity], green[identity])
        for identity in blue
        if blue[identity] != green[identity]
    }
    assert changed == {
        f"Service/{RELEASE}": [".spec.selector.detection-api/color"],
        f"Service/{RELEASE}-preview": [".spec.selector.detection-api/color"],
        f"ConfigMap/{RELEASE_CONFIGMAP}": [".data.activeColor"],
    }
    assert blue[f"Service/{RELEASE}"]["spec"]["selector"]["detection-api/color"] == "blue"
    assert green[f"Service/{RELEASE}"]["spec"]["selector"]["detection-api/color"] == "green"
    assert green[f"Service/{RELEASE}-preview"]["spec"]["selector"]["detection-api/color"] == "blue"
    assert green[f"ConfigMap/{RELEASE_CONFIGMAP}"]["data"] == {"activeColor": "green"}


def test_the_diff_notices_a_pod_template_change() -> None:
    """The comparison can fail: a changed environment variable deep in a pod spec is reported."""
    pod = {"spec": {"template": {"spec": {"containers": [{"env": [{"value": "a"}]}]}}}}
    changed = {"spec": {"template": {"spec": {"containers": [{"env": [{"value": "b"}]}]}}}}
    assert differences(pod, changed) == [".spec.template.spec.containers[0].env[0].value"]


def test_blue_green_deployment_strategy(helm: Helm) -> None:
    """A Deployment per colour with its own tag and replicas; main and preview Services."""
    values = {
        "activeColor": "green",
        "colors": {
            "blue": {"tag": "1.4.0", "replicaCount": 0},
            "green": {"tag": "1.5.0", "replicaCount": 4},
        },
    }
    manifests = helm.template(None, values)
    deployments = {d["metadata"]["name"]: d for d in of_kind(manifests, "Deployment")}
    assert set(deployments) == {f"{RELEASE}-blue", f"{RELEASE}-green"}
    for color, tag, replicas in (("blue", "1.4.0", 0), ("green", "1.5.0", 4)):
        deployment = deployments[f"{RELEASE}-{color}"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"].startswith(f"detection-api:{tag}@sha256:")
        assert deployment["spec"]["replicas"] == replicas
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert pod_labels["detection-api/color"] == color
        assert {"name": "DETECTION_API_COLOR", "value": color} in container["env"]
        # Each Deployment's selector only matches its own colour.
        assert deployment["spec"]["selector"]["matchLabels"]["detection-api/color"] == color
    main = named(manifests, "Service", RELEASE)["spec"]["selector"]
    preview = named(manifests, "Service", f"{RELEASE}-preview")["spec"]["selector"]
    assert main["detection-api/color"] == "green"
    assert preview["detection-api/color"] == "blue"
    green_labels = deployments[f"{RELEASE}-green"]["spec"]["template"]["metadata"]["labels"]
    assert main.items() <= green_labels.items()


def test_active_color_is_published_as_a_mounted_directory_not_a_subpath(helm: Helm) -> None:
    """A subPath mount never sees ConfigMap updates; a directory mount does, without a restart."""
    manifests = helm.template(None, {"activeColor": "blue"})
    published = named(manifests, "ConfigMap", RELEASE_CONFIGMAP)
    assert published["data"] == {"activeColor": "blue"}
    for deployment in of_kind(manifests, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        volume = next(
            v for v in pod["volumes"] if v.get("configMap", {}).get("name") == RELEASE_CONFIGMAP
        )
        container = pod["containers"][0]
        mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
        assert mount["mountPath"] == "/etc/detection-api/release"
        assert "subPath" not in mount
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["DETECTION_API_ACTIVE_COLOR_FILE"] == "/etc/detection-api/release/activeColor"


def test_migrations_use_the_deployed_colour_image_not_the_active_one(helm: Helm) -> None:
    values = {"colors": {"green": {"tag": "2.0.0"}}, "migrations": {"imageFromColor": "green"}}
    for active in ("blue", "green"):
        manifests = helm.template(
            None, merge_values(BOTH_SCALED, {**values, "activeColor": active})
        )
        job = named(manifests, "Job", f"{RELEASE}-migrate")
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["image"].startswith("detection-api:2.0.0@")
        assert container["args"] == ["migrate"]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
