"""Per-principal rate limits with `limits`: in memory for one process, Redis across replicas.

The asyncio API of `limits` keeps the check on the event loop: no thread hop per request.

A rate-limit store is a guard, not a dependency of ingest: when the shared store fails or does
not answer within its timeout, the request is counted in this process instead (each replica then
admits up to the limit on its own) and the shared store is left alone for a few seconds, so an
outage costs one timeout per pause, not one per request. Each fallback is reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import structlog
from limits import parse
from limits.aio.strategies import RateLimiter as Strategy
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from detection_api.api.problems import ProblemError

log = structlog.get_logger(__name__)

SHARED_STORE_PAUSE_SECONDS = 5.0


class RateLimiter:
    def __init__(
        self,
        limit: str,
        storage_uri: str,
        key_prefix: str = "detection-api",
        *,
        storage_timeout_seconds: float = 0.25,
        on_storage_error: Callable[[], object] = lambda: None,
    ) -> None:
        self._item = parse(limit)
        self._local = SlidingWindowCounterRateLimiter(storage_from_string("async+memory://"))
        self._shared: Strategy | None = None
        plain = storage_uri.removeprefix("async+")
        if plain.startswith("redis"):
            storage = storage_from_string(
                f"async+{plain}",
                key_prefix=key_prefix,
                implementation="redispy",
                wrap_exceptions=True,
                socket_timeout=storage_timeout_seconds,
                socket_connect_timeout=storage_timeout_seconds,
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)
        self._on_storage_error = on_storage_error
        self._shared_paused_until = 0.0

    async def check(self, principal: str) -> None:
        """Count one request for the principal; raise 429 with Retry-After when over the limit."""
        limiter = self._usable_shared() or self._local
        try:
            allowed = await limiter.hit(self._item, principal)
        except StorageError as error:
            self._pause_shared(error)
            limiter = self._local
            allowed = await limiter.hit(self._item, principal)
        if allowed:
            return
        retry_after = await self._retry_after(limiter, principal)
        raise ProblemError(
            429,
            "rate_limited",
            f"more than {self._item} for this caller; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )

    def _usable_shared(self) -> Strategy | None:
        if self._shared is None or time.monotonic() < self._shared_paused_until:
            return None
        if self._shared_paused_until:
            log.info("rate_limit_storage_retry")
            self._shared_paused_until = 0.0
        return self._shared

    def _pause_shared(self, error: StorageError) -> None:
        self._on_storage_error()
        self._shared_paused_until = time.monotonic() + SHARED_STORE_PAUSE_SECONDS
        log.warning(
            "rate_limit_storage_unavailable",
            error=f"{type(error.storage_error).__name__}: {error.storage_error}",
            fallback="process memory",
            pause_seconds=SHARED_STORE_PAUSE_SECONDS,
        )

    async def _retry_after(self, limiter: Strategy, principal: str) -> int:
        try:
            stats = await limiter.get_window_stats(self._item, principal)
        except StorageError:
            return int(self._item.get_expiry())  # the whole window: the store cannot say less
        return max(1, math.ceil(stats.reset_time - time.time()))
