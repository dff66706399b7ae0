"""Deploy building blocks: image parsing, helm values, SLI checks, smoke geometry, API paths."""

from __future__ import annotations

import math

import httpx
import pytest
from kubernetes import client

from detection_ops.deploy.__main__ import proxy_client
from detection_ops.deploy.cluster import object_path, plural
from detection_ops.deploy.manifests import merge_values, pod_specs
from detection_ops.deploy.release import ColorState, ReleaseState
from detection_ops.deploy.smoke import check_location, ground_distance_m
from detection_ops.deploy.steps import OperatorError
from detection_ops.deploy.watch import Prometheus, SloThresholds, check, queries, watch


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("detection-api:0.1.0", ColorState("0.1.0", "", 3)),
        (
            "1234.dkr.ecr.us-east-1.amazonaws.com/detection-api:1.2@sha256:ab",
            ColorState("1.2", "sha256:ab", 3),
        ),
        ("registry:5000/detection-api", ColorState("", "", 3)),
    ],
)
def test_images_as_the_chart_renders_them(image, expected):
    assert ColorState.from_image(image, 3) == expected


def test_values_carry_the_whole_state():
    state = ReleaseState("blue", ColorState("1", replicas=3), ColorState("2", "sha256:x", 0))
    assert state.switched_to("green").values("green") == {
        "activeColor": "green",
        "colors": {
            "blue": {"tag": "1", "digest": "", "replicaCount": 3},
            "green": {"tag": "2", "digest": "sha256:x", "replicaCount": 0},
        },
        "migrations": {"imageFromColor": "green"},
    }
    assert state.idle == "green"


def prometheus(value: str | None, status: int = 200) -> Prometheus:
    def answer(request: httpx.Request) -> httpx.Response:
        result = [] if value is None else [{"metric": {}, "value": [0, value]}]
        return httpx.Response(status, json={"status": "success", "data": {"result": result}})

    return Prometheus("http://prometheus", httpx.Client(transport=httpx.MockTransport(answer)))


SLIS = queries("detection-api", "detection-api-green-.+", "2m")


@pytest.mark.parametrize("value", [None, "NaN", "0.005"])
def test_no_traffic_or_a_healthy_value_is_no_breach(value):
    assert check(prometheus(value), SLIS, SloThresholds()) is None


def test_a_value_above_its_limit_is_a_breach():
    breach = check(prometheus("0.02"), SLIS, SloThresholds())
    assert breach is not None
    assert (breach.sli, breach.value, breach.limit) == ("error_ratio", 0.02, 0.01)


def test_prometheus_errors_stop_the_watch_with_advice():
    with pytest.raises(OperatorError, match="cannot answer") as caught:
        check(prometheus("0", status=503), SLIS, SloThresholds())
    assert "--prometheus-url" in caught.value.next_step


def test_watch_runs_for_its_window_and_sleeps_between_checks():
    slept: list[float] = []
    assert (
        watch(
            prometheus("0"), SLIS, SloThresholds(), duration=0.05, interval=0.02, sleep=slept.append
        )
        is None
    )
    assert slept
    assert all(0 < s <= 0.02 for s in slept)


def test_queries_select_the_new_colour_pods():
    assert 'pod=~"detection-api-green-.+"' in SLIS["error_ratio"]
    assert 'status=~"5.."' in SLIS["error_ratio"]
    assert SLIS["p99_latency_seconds"].startswith("histogram_quantile(0.99,")


def test_smoke_refuses_a_wrong_geolocation():
    wrong = {
        "detection_id": "d",
        "location": {"lat": 48.1, "lon": 11.5, "hae": 0.0},
        "accuracy": {"ce90_m": 3},
    }
    with pytest.raises(OperatorError, match=r"geolocated 0\.0 m from the camera"):
        check_location(wrong)
    with pytest.raises(OperatorError, match="not geolocated"):
        check_location({"detection_id": "d", "location": None, "accuracy": {"ce90_m": None}})


def test_ground_distance():
    one_degree = ground_distance_m(0, 0, 1, 0)
    assert math.isclose(one_degree, 111_195, rel_tol=1e-3)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("Deployment", "deployments"), ("NetworkPolicy", "networkpolicies"), ("Ingress", "ingresses")],
)
def test_plural(kind, expected):
    assert plural(kind) == expected


def test_object_paths():
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    assert object_path(doc, "ns", named=True) == "/apis/apps/v1/namespaces/ns/deployments/d"
    core = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}}
    assert object_path(core, "ns", named=False) == "/api/v1/namespaces/x/configmaps"


def test_smoke_through_the_api_server_service_proxy():
    configuration = client.Configuration()
    configuration.host = "https://k8s.example:6443"
    configuration.api_key = {"authorization": "Bearer t0ken"}
    http = proxy_client(client.ApiClient(configuration), "detection-api", "detection-api-preview")
    assert str(http.base_url) == (
        "https://k8s.example:6443/api/v1/namespaces/detection-api/services/detection-api-preview:http/proxy/"
    )
    assert http.headers["Authorization"] == "Bearer t0ken"


def test_values_merge_like_helm_maps_merge_and_everything_else_is_replaced():
    base = {"colors": {"blue": {"tag": "1", "replicaCount": 3}}, "hosts": ["a", "b"], "x": 1}
    override = {"colors": {"blue": {"tag": "2"}}, "hosts": ["c"], "x": {"now": "a map"}}
    assert merge_values(base, override) == {
        "colors": {"blue": {"tag": "2", "replicaCount": 3}},
        "hosts": ["c"],
        "x": {"now": "a map"},
    }
    assert base["colors"]["blue"]["tag"] == "1", "the inputs are not changed"


def test_pod_specs_reach_into_every_workload_kind_and_skip_the_rest():
    pod = {"containers": [{"name": "c"}]}
    manifests = [
        {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": pod}}},
        {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": pod}}},
        {
            "kind": "CronJob",
            "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}},
        },
        {"kind": "Service", "metadata": {"name": "s"}, "spec": {"selector": {}}},
    ]
    assert pod_specs(manifests) == [("d", pod), ("j", pod), ("c", pod)]
