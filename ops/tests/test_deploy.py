"""Blue/green deploy, rollback and auto-rollback end to end: the real `kubernetes` client against
the in-memory Kubernetes API (kmock), the real helm binary rendering the real chart, a real
detection-api behind the "preview Service" for the smoke test, and a fake Prometheus for the SLIs.
The test plays the controller: it marks each colour's rollout ready, failing, slow or unhealthy.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import kmock
import pytest
import yaml
from kubernetes import client

from detection_ops.backup.service import serving
from detection_ops.deploy.__main__ import SMOKE_KEY, main
from detection_ops.deploy.cluster import Cluster
from detection_ops.deploy.helm import Helm
from detection_ops.deploy.records import Records
from detection_ops.deploy.release import ColorState, ReleaseState
from detection_ops.tools.specs import find_repo_root

NAMESPACE = RELEASE = "detection-api"
CHART = find_repo_root(Path(__file__)) / "charts" / "detection-api"
DEV_KEY = "dak_dev_dev-only-not-a-secret"


class Emulator(kmock.KubernetesEmulator):
    """Bumps metadata.generation when a Deployment's spec changes, as the API server does."""

    async def _handle(self, request: kmock.Request) -> Any:
        resource = request.resource
        if getattr(resource, "plural", None) == "deployments" and isinstance(request.data, dict):
            meta = request.data.setdefault("metadata", {})
            if request.action == kmock.action.CREATE:
                meta["generation"] = 1
            elif request.action == kmock.action.UPDATE and "spec" in request.data:
                key = (resource, request.namespace, request.name)
                current = self.objects[key].raw if key in self.objects else {}
                meta["generation"] = current.get("metadata", {}).get("generation", 0) + 1
        return await super()._handle(request)


class Controller:
    """Plays the Deployment controller: per colour `ready`, `failing`, `slow` or `unhealthy`."""

    def __init__(self, api: client.ApiClient) -> None:
        self.apps = client.AppsV1Api(api)
        self.modes = {"blue": "ready", "green": "ready"}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            for color, mode in self.modes.items():
                try:
                    found = self.apps.read_namespaced_deployment(f"{RELEASE}-{color}", NAMESPACE)
                except client.ApiException:
                    continue
                generation = found.metadata.generation
                if found.status and found.status.observed_generation == generation:
                    continue
                status = self._status(mode, found.spec.replicas or 0, generation)
                if status is not None:
                    self.apps.patch_namespaced_deployment_status(
                        f"{RELEASE}-{color}", NAMESPACE, {"status": status}
                    )

    @staticmethod
    def _status(mode: str, replicas: int, generation: int) -> dict[str, Any] | None:
        if mode == "slow":
            return None
        ready = {"ready": replicas, "unhealthy": min(replicas, 1), "failing": 0}[mode]
        status: dict[str, Any] = {
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [],
        }
        if mode == "failing":
            status["conditions"] = [
                {
                    "type": "Progressing",
                    "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": "ReplicaSet has timed out progressing: ImagePullBackOff",
                }
            ]
        return status


def kubeconfig_file(folder: Path, server: str) -> Path:
    path = folder / "kubeconfig"
    cluster, user = {"server": server}, {"token": "test-token"}
    context = {"cluster": "c", "user": "u"}
    config = {
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
    }
    config |= {"contexts": [{"name": "c", "context": context}], "current-context": "c"}
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", **config}))
    return path


@pytest.fixture
def kube(tmp_path) -> Iterator[tuple[client.ApiClient, Path]]:
    started, state = threading.Event(), {}

    async def serve() -> None:
        emulator = Emulator()
        # A real API server lists every resource it serves, even with no objects yet.
        for resource in ("apps/v1/deployments", "v1/configmaps", "v1/services"):
            emulator.resources[resource] = {}
        async with emulator, kmock.Server(emulator, host="127.0.0.1") as server:
            state["url"], state["stop"] = str(server.url).rstrip("/"), asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            started.set()
            await state["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert started.wait(10)
    kubeconfig = kubeconfig_file(tmp_path, state["url"])
    configuration = client.Configuration()
    configuration.host = state["url"]
    try:
        yield client.ApiClient(configuration), kubeconfig
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


@pytest.fixture
def controller(kube) -> Iterator[Controller]:
    found = Controller(kube[0])
    found.thread.start()
    yield found
    found.stop.set()
    found.thread.join(5)


@pytest.fixture
def cluster(kube, controller, require_tool) -> Cluster:
    """The release as a previous deploy left it: blue 0.1.0 x3 active, green empty."""
    helm = Helm(RELEASE, NAMESPACE, CHART, CHART / "values-dev.yaml", require_tool("helm"))
    found = Cluster(kube[0], NAMESPACE, RELEASE)
    initial = ReleaseState("blue", ColorState("0.1.0", replicas=3), ColorState("0.1.0"))
    found.apply(helm.template(initial.values_yaml()))
    return found


class FakePrometheus(ThreadingHTTPServer):
    """Answers instant queries: the error ratio and p99 latency the test sets."""

    def __init__(self) -> None:
        self.values = {"error_ratio": 0.001, "p99_latency_seconds": 0.05}
        self.queries: list[str] = []
        super().__init__(("127.0.0.1", 0), PrometheusHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class PrometheusHandler(BaseHTTPRequestHandler):
    server: FakePrometheus

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)["query"][0]
        self.server.queries.append(query)
        sli = "p99_latency_seconds" if "histogram_quantile" in query else "error_ratio"
        body = {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [{"metric": {}, "value": [time.time(), str(self.server.values[sli])]}],
            },
        }
        self._send(200, json.dumps(body))

    def _send(self, status: int, body: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


class BrokenRelease(BaseHTTPRequestHandler):
    """A new image that reports ready but fails every detection (HTTP 500)."""

    def do_GET(self) -> None:
        self._send(200, '{"status": "ok"}')

    def do_POST(self) -> None:
        self._send(500, '{"title": "internal error"}')

    _send = PrometheusHandler._send
    log_message = PrometheusHandler.log_message


def background(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    yield from background(FakePrometheus())  # type: ignore[misc]


@pytest.fixture
def broken() -> Iterator[str]:
    for server in background(ThreadingHTTPServer(("127.0.0.1", 0), BrokenRelease)):
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def preview(tmp_path_factory) -> Iterator[str]:
    """A real detection-api: what the preview Service reaches for a healthy new colour."""
    database = tmp_path_factory.mktemp("preview") / "detection-api.db"
    with serving(f"sqlite:///{database}", {}, timeout=120) as service:
        yield service.url


def run(kubeconfig: Path, command: str, *extra: str) -> int:
    common = f"--env dev --kubeconfig {kubeconfig} --apply-mode template --rollout-timeout 10"
    return main([command, *common.split(), *extra])


def deploy(kube, smoke: str, prometheus: FakePrometheus, *extra: str) -> int:
    fast = "--image-tag 0.2.0 --watch-seconds 0.5 --watch-interval 0.1 --scale-down-after 0"
    urls = ["--smoke-url", smoke, "--prometheus-url", prometheus.url]
    return run(kube[1], "deploy", *fast.split(), *urls, *extra)


def selector_color(cluster: Cluster, name: str) -> str:
    return cluster.core.read_namespaced_service(name, NAMESPACE).spec.selector[
        "detection-api/color"
    ]


def log_events(capsys) -> list[dict[str, Any]]:
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.fixture(autouse=True)
def smoke_key(monkeypatch) -> None:
    monkeypatch.setenv(SMOKE_KEY, DEV_KEY)


def test_happy_path_switches_and_scales_the_old_colour_down(
    kube, cluster, preview, prometheus, capsys
):
    assert deploy(kube, preview, prometheus) == 0
    state = cluster.state()
    assert state is not None
    assert state.active == "green"
    assert state.green == ColorState("0.2.0", replicas=3)
    assert state.blue.replicas == 0
    assert (selector_color(cluster, RELEASE), selector_color(cluster, f"{RELEASE}-preview")) == (
        "green",
        "blue",
    )
    [record] = Records(cluster).history()
    assert (record.result, record.from_color, record.from_state) == (
        "succeeded",
        "blue",
        ColorState("0.1.0", replicas=3),
    )
    assert any('pod=~"detection-api-green-.+"' in query for query in prometheus.queries)
    events = log_events(capsys)
    assert {"rollback.target", "smoke.passed", "operation.done"} <= {e["event"] for e in events}


def test_smoke_failure_stops_and_rolls_back(kube, cluster, broken, prometheus, capsys):
    assert deploy(kube, broken, prometheus) == 1
    state = cluster.state()
    assert state is not None
    assert (state.active, state.blue, state.green) == (
        "blue",
        ColorState("0.1.0", replicas=3),
        ColorState("0.1.0"),
    )
    [record] = Records(cluster).history()
    assert record.result == "rolled-back"
    assert "POST /v1/detections answered 500" in record.reason
    assert prometheus.queries == []  # never switched, never watched
    failure = log_events(capsys)[-1]
    assert failure["event"] == "operation.failed"


def test_slo_breach_switches_back_automatically(kube, cluster, preview, prometheus, capsys):
    prometheus.values["error_ratio"] = 0.2
    assert deploy(kube, preview, prometheus) == 1
    state = cluster.state()
    assert state is not None
    assert state.active == "blue"
    assert state.blue == ColorState("0.1.0", replicas=3)  # never scaled down
    assert selector_color(cluster, RELEASE) == "blue"
    [record] = Records(cluster).history()
    assert record.result == "rolled-back"
    assert "error_ratio 0.2 above its limit 0.01" in record.reason
    breach = next(e for e in log_events(capsys) if e["event"] == "slo.breach")
    assert (breach["sli"], breach["value"]) == ("error_ratio", 0.2)


def test_latency_breach_without_auto_rollback_stays_and_says_how_to_roll_back(
    kube, cluster, preview, prometheus, capsys
):
    prometheus.values["p99_latency_seconds"] = 2.0
    assert deploy(kube, preview, prometheus, "--no-auto-rollback") == 1
    assert cluster.active_color() == "green"
    failure = log_events(capsys)[-1]
    assert "inv rollback" in failure["next_step"]


def test_missing_rollback_target_stops_before_any_change(
    kube, cluster, controller, preview, prometheus, capsys
):
    cluster.wait_rollout("blue", timeout=10)
    controller.modes["blue"] = "unhealthy"  # two of three pods crash-looping since then
    generation = cluster.apps.read_namespaced_deployment(
        f"{RELEASE}-blue", NAMESPACE
    ).metadata.generation
    cluster.apps.patch_namespaced_deployment_status(
        f"{RELEASE}-blue", NAMESPACE, {"status": Controller._status("unhealthy", 3, generation)}
    )
    assert deploy(kube, preview, prometheus) == 1
    state = cluster.state()
    assert state is not None
    assert (state.active, state.green) == ("blue", ColorState("0.1.0"))
    assert Records(cluster).history() == []
    failure = log_events(capsys)[-1]
    assert "no valid rollback target" in failure["problem"]
    assert "1/3 ready" in failure["problem"]


@pytest.mark.parametrize(
    ("mode", "problem"), [("slow", "not ready after 10 s"), ("failing", "ImagePullBackOff")]
)
def test_rollout_timeout_or_failure_rolls_back(
    kube, cluster, controller, preview, prometheus, capsys, mode, problem
):
    controller.modes["green"] = mode
    assert deploy(kube, preview, prometheus) == 1
    state = cluster.state()
    assert state is not None
    assert (state.active, state.green.replicas) == ("blue", 0)
    [record] = Records(cluster).history()
    assert record.result == "rolled-back"
    assert problem in record.reason


def test_rollback_scales_the_previous_colour_back_and_switches(kube, cluster, preview, prometheus):
    assert deploy(kube, preview, prometheus) == 0
    assert run(kube[1], "rollback") == 0
    state = cluster.state()
    assert state is not None
    assert state.active == "blue"
    assert state.blue == ColorState("0.1.0", replicas=3)  # the recorded rollback target
    assert state.green.tag == "0.2.0"
    assert [r.action for r in Records(cluster).history()] == ["deploy", "rollback"]


def test_dry_run_prints_the_plan_and_changes_nothing(kube, cluster, prometheus, capsys):
    before = cluster.state()
    assert run(kube[1], "deploy", "--image-tag", "0.2.0", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "-activeColor: blue" in out
    assert "+activeColor: green" in out
    assert "+    tag: 0.2.0" in out
    assert '+          image: "detection-api:0.2.0"' in out
    assert cluster.state() == before
    assert Records(cluster).history() == []


def test_first_deploy_into_an_empty_namespace(kube, controller, preview, prometheus, require_tool):
    require_tool("helm")
    assert deploy(kube, preview, prometheus) == 1  # no release: refused
    assert deploy(kube, preview, prometheus, "--first-deploy") == 0
    found = Cluster(kube[0], NAMESPACE, RELEASE).state()
    assert found is not None
    assert (found.active, found.blue, found.green.replicas) == (
        "blue",
        ColorState("0.2.0", replicas=3),
        0,
    )
    assert [r.result for r in Records(Cluster(kube[0], NAMESPACE, RELEASE)).history()] == [
        "succeeded"
    ]


def test_rollback_target_that_the_environment_would_refuse_stops_the_deploy(
    kube, cluster, preview, prometheus, capsys
):
    # Blue runs unpinned (no digest); staging pins images by digest, so going back to blue
    # could not be released there: the deploy must stop before changing anything.
    digest = "sha256:" + "a" * 64
    assert deploy(kube, preview, prometheus, "--env", "staging", "--image-digest", digest) == 1
    failure = log_events(capsys)[-1]
    assert "no valid rollback target" in failure["problem"]
    assert "colors.blue.digest is required in staging" in failure["problem"]
    assert Records(cluster).history() == []


def test_unreachable_cluster_says_what_to_check(tmp_path, capsys):
    kubeconfig = kubeconfig_file(tmp_path, "http://127.0.0.1:9")
    assert run(kubeconfig, "rollback") == 1
    failure = log_events(capsys)[-1]
    assert "cannot reach the cluster" in failure["problem"]
    assert "kubectl cluster-info" in failure["next_step"]
