"""The release in Kubernetes through the official client: state, rollouts, apply, records."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from rich.progress import BarColumn, Progress, TimeElapsedColumn
from urllib3.exceptions import HTTPError

from detection_ops.deploy.release import COLORS, Color, ColorState, ReleaseState
from detection_ops.deploy.steps import PROGRESS_CONSOLE, OperatorError

FIELD_MANAGER = "detection-ops"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"


def plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def object_path(doc: dict[str, Any], namespace: str, *, named: bool) -> str:
    version = doc["apiVersion"]
    base = f"/api/{version}" if "/" not in version else f"/apis/{version}"
    path = f"{base}/namespaces/{doc['metadata'].get('namespace', namespace)}/{plural(doc['kind'])}"
    return f"{path}/{doc['metadata']['name']}" if named else path


@dataclass(frozen=True)
class Rollout:
    desired: int
    ready: int
    updated: int
    available: int
    current: bool  # the controller has seen the latest spec
    failure: str | None

    @property
    def complete(self) -> bool:
        return (
            self.current
            and self.failure is None
            and (min(self.ready, self.updated, self.available) >= self.desired)
        )


class Cluster:
    def __init__(self, api: client.ApiClient, namespace: str, release: str) -> None:
        self.api, self.namespace, self.release = api, namespace, release
        self.apps, self.core = client.AppsV1Api(api), client.CoreV1Api(api)
        self.fullname = release if "detection-api" in release else f"{release}-detection-api"

    def deployment(self, color: Color) -> str:
        return f"{self.fullname}-{color}"

    @property
    def preview_service(self) -> str:
        return f"{self.fullname}-preview"

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ApiException as error:
            if error.status == 404:
                raise
            raise OperatorError(
                f"Kubernetes refused {what}: {error.status} {error.reason}",
                "check your kube context and RBAC (`kubectl auth can-i`)",
            ) from error
        except HTTPError as error:
            raise OperatorError(
                f"cannot reach the cluster for {what}: {error}",
                "check the kube context, VPN and `kubectl cluster-info`",
            ) from error

    def check_reachable(self) -> None:
        selector = f"app.kubernetes.io/instance={self.release}"
        self._call(
            f"listing deployments in {self.namespace}",
            self.apps.list_namespaced_deployment,
            self.namespace,
            label_selector=selector,
        )

    def active_color(self) -> Color | None:
        try:
            found = self._call(
                "reading the release ConfigMap",
                self.core.read_namespaced_config_map,
                f"{self.fullname}-release",
                self.namespace,
            )
        except ApiException:
            return None
        color = (found.data or {}).get("activeColor")
        return color if color in COLORS else None

    def color_state(self, color: Color) -> ColorState | None:
        try:
            found = self._call(
                "reading a deployment",
                self.apps.read_namespaced_deployment,
                self.deployment(color),
                self.namespace,
            )
        except ApiException:
            return None
        image = found.spec.template.spec.containers[0].image
        return ColorState.from_image(image, found.spec.replicas or 0)

    def state(self) -> ReleaseState | None:
        active = self.active_color()
        blue, green = self.color_state("blue"), self.color_state("green")
        if active is None or blue is None or green is None:
            return None
        return ReleaseState(active, blue, green)

    def rollout(self, color: Color) -> Rollout:
        found = self._call(
            "reading a rollout",
            self.apps.read_namespaced_deployment,
            self.deployment(color),
            self.namespace,
        )
        status, generation = found.status, found.metadata.generation
        observed = status.observed_generation if status else None
        failure = None
        for condition in (status.conditions if status else None) or []:
            if condition.reason == "ProgressDeadlineExceeded":
                failure = condition.message or "progress deadline exceeded"
        return Rollout(
            desired=found.spec.replicas or 0,
            ready=(status.ready_replicas if status else 0) or 0,
            updated=(status.updated_replicas if status else 0) or 0,
            available=(status.available_replicas if status else 0) or 0,
            current=generation is not None and observed is not None and observed >= generation,
            failure=failure,
        )

    def wait_rollout(self, color: Color, timeout: float, poll: float = 0.5) -> Rollout:
        """Wait like `kubectl rollout status`: the latest spec observed, every replica ready."""
        deadline = time.monotonic() + timeout
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            "{task.completed}/{task.total}",
            TimeElapsedColumn(),
            transient=True,
            console=PROGRESS_CONSOLE,
        ) as progress:
            task = progress.add_task(f"rollout {self.deployment(color)}", total=None)
            while True:
                state = self.rollout(color)
                progress.update(task, total=state.desired, completed=state.ready)
                if state.failure:
                    raise OperatorError(
                        f"rollout of {self.deployment(color)} failed: {state.failure}",
                        f"kubectl -n {self.namespace} describe deployment {self.deployment(color)}",
                    )
                if state.complete:
                    return state
                if time.monotonic() >= deadline:
                    raise OperatorError(
                        f"rollout of {self.deployment(color)} not ready after {timeout:.0f} s "
                        f"({state.ready}/{state.desired} ready)",
                        f"kubectl -n {self.namespace} get pods -l detection-api/color={color}",
                    )
                time.sleep(poll)

    def apply(self, manifests: str) -> int:
        """Server-side apply of every document (created when the server does not know it)."""
        count = 0
        for doc in yaml.safe_load_all(manifests):
            if not doc:
                continue
            self.apply_object(doc)
            count += 1
        return count

    def _request(self, method: str, path: str, body: dict[str, Any], **options: Any) -> int:
        request = self.api.param_serialize(
            method, path, body=body, auth_settings=["BearerToken"], **options
        )
        try:
            response = self.api.call_api(*request)
            response.read()  # type: ignore[no-untyped-call]
        except HTTPError as error:
            raise OperatorError(
                f"cannot reach the cluster: {error}", "check the kube context"
            ) from error
        return int(response.status)

    def apply_object(self, doc: dict[str, Any]) -> None:
        status = self._request(
            "PATCH",
            object_path(doc, self.namespace, named=True),
            doc,
            query_params=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            header_params={"Content-Type": APPLY_CONTENT_TYPE},
        )
        if status == 404:  # servers without server-side apply of new objects
            status = self._request(
                "POST",
                object_path(doc, self.namespace, named=False),
                doc,
                header_params={"Content-Type": "application/json"},
            )
        if status >= 300:
            raise OperatorError(
                f"applying {doc['kind']}/{doc['metadata']['name']} answered {status}",
                "check RBAC of the deploy role and the manifest",
            )
