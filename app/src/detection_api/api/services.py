"""The objects a running service shares between requests, and the FastAPI dependencies on them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from detection_api import geo
from detection_api.api.auth import Authenticator, Principal
from detection_api.api.batching import GroupCommit
from detection_api.api.ingest import Ingestor, IngestPolicy, OutboxGauge
from detection_api.api.problems import ProblemError
from detection_api.api.ratelimit import RateLimiter
from detection_api.delivery.destinations import Destination
from detection_api.delivery.worker import DeliveryService
from detection_api.observability.metrics import Metrics
from detection_api.settings import Settings
from detection_api.store.api_keys import ApiKeyStore
from detection_api.store.detections import DetectionStore
from detection_api.store.outbox import Outbox


@dataclass
class Services:
    settings: Settings
    engine: Engine
    metrics: Metrics
    detections: DetectionStore
    keys: ApiKeyStore
    authenticator: Authenticator
    limiter: RateLimiter
    ingestor: Ingestor
    group_commit: GroupCommit
    delivery: DeliveryService | None
    shutting_down: bool = field(default=False)

    @classmethod
    def build(cls, settings: Settings, engine: Engine, metrics: Metrics) -> Services:
        detections = DetectionStore(engine)
        keys = ApiKeyStore(engine, settings.api_key_pepper.get_secret_value().encode())
        policy = IngestPolicy(
            object_classes=frozenset(settings.object_classes),
            destinations=tuple(Destination.from_url(url).name for url in settings.tak_destinations),
            stale_after=timedelta(seconds=settings.stale_after_seconds),
            geo_config=geo.GeoConfig(default_terrain_height_m=settings.default_terrain_height_m),
            dem=geo.load_dem(settings.dem_path) if settings.dem_path else None,
        )
        ingestor = Ingestor(
            detections, policy, metrics, OutboxGauge(detections, settings.outbox_cap)
        )
        return cls(
            settings=settings,
            engine=engine,
            metrics=metrics,
            detections=detections,
            keys=keys,
            authenticator=Authenticator(settings, keys),
            limiter=RateLimiter(
                settings.rate_limit,
                settings.rate_limit_storage,
                settings.rate_limit_key_prefix,
                storage_timeout_seconds=settings.rate_limit_storage_timeout_seconds,
                on_storage_error=metrics.rate_limit_storage_errors.inc,
            ),
            ingestor=ingestor,
            group_commit=GroupCommit(
                ingestor.ingest,
                settings.max_batch_items,
                offload=engine.dialect.name != "sqlite",
            ),
            delivery=(
                DeliveryService(settings, Outbox(engine), metrics)
                if settings.delivery_enabled and settings.tak_destinations
                else None
            ),
        )


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def services(request: Request) -> Services:
    """The `Services` dependency; async because FastAPI runs a sync one in a worker thread."""
    return services_of(request)


_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")
_bearer = HTTPBearer(auto_error=False, description="a JWT from the configured issuer")


def requires(scope: str) -> Callable[..., object]:
    """A dependency that authenticates the caller, checks `scope` and counts its rate limit."""

    async def dependency(
        request: Request,
        api_key: Annotated[str | None, Security(_api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        found = services_of(request)
        authorization = f"Bearer {bearer.credentials}" if bearer else None
        if bearer is None and request.headers.get("authorization"):
            authorization = request.headers["authorization"]
        # A recently seen API key is answered from memory; anything else may need I/O.
        principal = found.authenticator.cached(authorization, api_key)
        if principal is None:
            principal = await run_in_threadpool(
                found.authenticator.authenticate, authorization, api_key
            )
        if scope not in principal.scopes:
            raise ProblemError(403, "insufficient_scope", f"this operation needs the scope {scope}")
        await found.limiter.check(principal.name)
        request.state.principal = principal
        return principal

    return dependency


ServicesDep = Annotated[Services, Depends(services)]
Writer = Annotated[Principal, Depends(requires("detections:write"))]
Reader = Annotated[Principal, Depends(requires("detections:read"))]
Admin = Annotated[Principal, Depends(requires("admin"))]
