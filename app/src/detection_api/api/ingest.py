"""The ingest pipeline: validated requests -> geolocation -> rows -> one transaction.

One code path for a single detection and a batch: a single POST is a batch of one. Items fail
individually (the batch endpoint reports them per index); nothing that was accepted is lost.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from detection_api import geo
from detection_api.api.mapping import event_payload, solution_columns, to_observation
from detection_api.api.schemas import DetectionIn
from detection_api.observability.metrics import Metrics
from detection_api.store.detections import DetectionStore, NewDetection

IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0e9a8e-8f0b-4f57-9d9a-6c3f1f6f2d11")
COT_UID_PREFIX = "detection-api"


@dataclass(frozen=True)
class ItemError:
    """Why one item was not accepted: an HTTP status, a stable code, the field and the reason."""

    status: int
    code: str
    field: str | None
    reason: str


@dataclass(frozen=True)
class Stored:
    """An accepted detection as stored; `replayed` when it was stored by an earlier request."""

    row: dict[str, Any]
    replayed: bool = False


Outcome = Stored | ItemError


@dataclass(frozen=True)
class Submission:
    """One detection as submitted, with who sent it and the id it will be stored under."""

    item: DetectionIn
    principal: str
    detection_id: str
    # Named by the client (its id or Idempotency-Key): it may already exist. A fresh random id
    # cannot, so it needs no look-up.
    may_exist: bool = True

    @classmethod
    def of(
        cls, items: Sequence[DetectionIn], principal: str, idempotency_key: str | None
    ) -> list[Submission]:
        """The submissions of one request; ids from the client, its key, or fresh."""
        named = idempotency_key is not None
        return [
            cls(
                item,
                principal,
                _detection_id(item, principal, idempotency_key, len(items), i),
                may_exist=named or item.detection_id is not None,
            )
            for i, item in enumerate(items)
        ]


@dataclass(frozen=True)
class IngestPolicy:
    object_classes: frozenset[str]
    destinations: tuple[str, ...]
    stale_after: timedelta
    geo_config: geo.GeoConfig
    dem: geo.Dem | None = None


@dataclass(frozen=True)
class _Candidate:
    index: int
    submission: Submission
    request_json: dict[str, Any]
    request_sha256: str
    observation: geo.Observation


class OutboxFullError(Exception):
    """The outbox holds its cap of undelivered rows; ingest must push back (503)."""


class OutboxGauge:
    """Pending outbox rows, counted at most once a second and incremented in between."""

    def __init__(self, store: DetectionStore, cap: int, refresh_seconds: float = 1.0) -> None:
        self._store, self._cap, self._refresh = store, cap, refresh_seconds
        self._count, self._counted_at = 0, float("-inf")
        self._lock = threading.Lock()

    def reserve(self, rows: int) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._counted_at >= self._refresh:
                self._count, self._counted_at = self._store.pending_outbox_rows(), now
            if rows and self._count + rows > self._cap:
                raise OutboxFullError
            self._count += rows


class Ingestor:
    def __init__(
        self, store: DetectionStore, policy: IngestPolicy, metrics: Metrics, outbox: OutboxGauge
    ) -> None:
        self._store, self._policy, self._metrics, self._outbox = store, policy, metrics, outbox

    def ingest(
        self, submissions: Sequence[Submission], *, retry_on_conflict: bool = True
    ) -> list[Outcome]:
        """Geolocate and store the submissions that pass; say why for the others."""
        outcomes: dict[int, Outcome] = {}
        candidates = self._candidates(submissions, outcomes)
        existing = self._store.get_many(
            [c.submission.detection_id for c in candidates if c.submission.may_exist]
        )
        fresh = []
        for candidate in candidates:
            previous = existing.get(candidate.submission.detection_id)
            if previous is None:
                fresh.append(candidate)
            elif previous["request_sha256"] == candidate.request_sha256:
                outcomes[candidate.index] = Stored(previous, replayed=True)
            else:
                outcomes[candidate.index] = _conflict()
        try:
            outcomes.update(self._accept(fresh))
        except IntegrityError:
            if not retry_on_conflict:
                raise
            # Another request stored the same detection_id first: answer as a replay.
            return self.ingest(submissions, retry_on_conflict=False)
        for outcome in outcomes.values():
            if isinstance(outcome, ItemError):
                self._metrics.rejections.labels(outcome.code).inc()
        return [outcomes[index] for index in range(len(submissions))]

    def _candidates(
        self, submissions: Sequence[Submission], outcomes: dict[int, Outcome]
    ) -> list[_Candidate]:
        candidates = []
        for index, submission in enumerate(submissions):
            item = submission.item
            if item.object.class_ not in self._policy.object_classes:
                classes = ", ".join(sorted(self._policy.object_classes))
                reason = f"unknown class; configured: {classes}"
                outcomes[index] = ItemError(422, "unknown_class", "object.class", reason)
                continue
            try:
                observation = to_observation(item, self._policy.geo_config)
            except geo.GeoInputError as error:
                outcomes[index] = ItemError(422, "invalid_geometry", error.field, error.reason)
                continue
            request_json = item.model_dump(mode="json", by_alias=True, exclude={"detection_id"})
            digest = hashlib.sha256(orjson.dumps(request_json, option=orjson.OPT_SORT_KEYS))
            candidates.append(
                _Candidate(
                    index=index,
                    submission=submission,
                    request_json=request_json,
                    request_sha256=digest.hexdigest(),
                    observation=observation,
                )
            )
        return candidates

    def _accept(self, fresh: list[_Candidate]) -> dict[int, Outcome]:
        if not fresh:
            return {}
        observations = [c.observation for c in fresh]  # each passed geo.validate already
        solutions = geo.solve(
            observations, self._policy.geo_config, self._policy.dem, validated=True
        )
        now = datetime.now(UTC)
        new = [self._rows(c, s, now) for c, s in zip(fresh, solutions, strict=True)]
        self._outbox.reserve(sum(len(item.outbox_rows) for item in new))
        self._store.insert(new)
        for candidate, solution in zip(fresh, solutions, strict=True):
            object_class = candidate.submission.item.object.class_
            self._metrics.ingested.labels(object_class, solution.flag).inc()
            if solution.ce90_m is not None:
                self._metrics.ce90.observe(solution.ce90_m)
        return {
            c.index: Stored(dict(item.row, delivery_states=["pending"] * len(item.outbox_rows)))
            for c, item in zip(fresh, new, strict=True)
        }

    def _rows(self, candidate: _Candidate, solution: geo.Solution, now: datetime) -> NewDetection:
        request, principal = candidate.submission.item, candidate.submission.principal
        row = {
            "id": candidate.submission.detection_id,
            "received_at": now,
            "captured_at": request.captured_at.astimezone(UTC),
            "principal": principal,
            "source": request.source,
            "camera_id": request.camera_id,
            "object_class": request.object.class_,
            "confidence": request.object.confidence,
            "request": candidate.request_json,
            "request_sha256": candidate.request_sha256,
            "image_sha256": request.image_sha256,
            **solution_columns(solution),
            "cot_uid": f"{COT_UID_PREFIX}-{candidate.submission.detection_id}",
        }
        located = solution.refusal is None
        destinations = self._policy.destinations if located else ()
        outbox_rows = [self._outbox_row(row, solution, name, now) for name in destinations]
        audit = [_audit("geolocated" if located else "refused", principal, row, now)]
        if outbox_rows:
            audit.append(_audit("queued", principal, row, now, destinations=list(destinations)))
        return NewDetection(row=row, outbox_rows=outbox_rows, audit_rows=audit)

    def _outbox_row(
        self, row: dict[str, Any], solution: geo.Solution, destination: str, now: datetime
    ) -> dict[str, Any]:
        captured_at: datetime = row["captured_at"]
        return {
            "detection_id": row["id"],
            "destination": destination,
            "cot_uid": row["cot_uid"],
            "payload": event_payload(row, solution),
            "event_time": captured_at,
            "stale_at": captured_at + self._policy.stale_after,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }


def _detection_id(
    item: DetectionIn, principal: str, key: str | None, batch_size: int, index: int
) -> str:
    if item.detection_id is not None:
        return str(item.detection_id)
    if key is not None:
        # The same key from the same caller always names the same detection(s).
        scope = f"{principal}\n{key}" + (f"\n{index}" if batch_size > 1 else "")
        return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, scope))
    return str(uuid.uuid4())


def _conflict() -> ItemError:
    return ItemError(
        409, "detection_id_conflict", "detection_id",
        "this detection_id (or Idempotency-Key) was already used for a different detection",
    )  # fmt: skip


def _audit(
    kind: str, principal: str, row: dict[str, Any], at: datetime, **extra: Any
) -> dict[str, Any]:
    details = {"flag": row["flag"], "ce90_m": row["ce90_m"], "refusal": row["refusal"], **extra}
    return {
        "at": at,
        "kind": kind,
        "principal": principal,
        "detection_id": row["id"],
        "details": details,
    }
