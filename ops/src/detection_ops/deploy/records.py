"""Deployment records kept in the cluster: who deployed what, when, and how it ended.

One ConfigMap per deploy or rollback, labelled so that `kubectl get cm -l
detection-api/record=deployment` lists the history; the newest successful one names the
rollback target.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from detection_ops.deploy.cluster import Cluster
from detection_ops.deploy.release import Color, ColorState

LABEL = "detection-api/record"


def who() -> str:
    """The operator: the CI actor when set, else the local user."""
    return os.environ.get("GITHUB_ACTOR") or getpass.getuser()


@dataclass(frozen=True)
class DeployRecord:
    id: str
    action: str  # deploy | rollback
    who: str
    started_at: str
    from_color: Color
    from_state: ColorState  # the rollback target
    to_color: Color
    to_state: ColorState
    result: str = "running"  # running | succeeded | rolled-back | failed
    reason: str = ""
    finished_at: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        action: str,
        from_color: Color,
        from_state: ColorState,
        to_color: Color,
        to_state: ColorState,
    ) -> DeployRecord:
        now = datetime.now(UTC)
        return cls(
            id=f"{action}-{now.strftime('%Y%m%d%H%M%S%f')}",
            action=action,
            who=who(),
            started_at=now.isoformat(),
            from_color=from_color,
            from_state=from_state,
            to_color=to_color,
            to_state=to_state,
        )

    def finished(self, result: str, reason: str = "") -> DeployRecord:
        return replace(
            self, result=result, reason=reason, finished_at=datetime.now(UTC).isoformat()
        )

    @classmethod
    def from_data(cls, data: dict[str, str]) -> DeployRecord:
        raw = json.loads(data["record"])
        raw["from_state"] = ColorState(**raw["from_state"])
        raw["to_state"] = ColorState(**raw["to_state"])
        return cls(**raw)


class Records:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def _body(self, record: DeployRecord) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{self.cluster.fullname}-{record.id}",
                "namespace": self.cluster.namespace,
                "labels": {
                    LABEL: "deployment",
                    "app.kubernetes.io/instance": self.cluster.release,
                    "detection-api/result": record.result,
                },
            },
            "data": {"record": json.dumps(asdict(record), sort_keys=True)},
        }

    def save(self, record: DeployRecord) -> DeployRecord:
        self.cluster.apply_object(self._body(record))
        return record

    def history(self) -> list[DeployRecord]:
        found = self.cluster.core.list_namespaced_config_map(
            self.cluster.namespace, label_selector=f"{LABEL}=deployment"
        )
        items: list[client.V1ConfigMap] = found.items
        records = [
            DeployRecord.from_data(item.data)
            for item in items  # label selectors are filtered again: not every server honours them
            if item.data
            and item.metadata
            and (item.metadata.labels or {}).get(LABEL) == "deployment"
        ]
        return sorted(records, key=lambda record: record.started_at)
