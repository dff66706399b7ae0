"""Per-principal rate limits with `limits`: in memory for one process, Redis across replicas.

The asyncio API of `limits` keeps the check on the event loop: no thread hop per request.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from detection_api.api.problems import ProblemError


class RateLimiter:
    def __init__(self, limit: str, storage_uri: str, key_prefix: str = "detection-api") -> None:
        self._item = parse(limit)
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        options: dict[str, str] = {}
        if storage_uri.removeprefix("async+").startswith("redis"):
            options = {"key_prefix": key_prefix, "implementation": "redispy"}
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri, **options))

    async def check(self, principal: str) -> None:
        """Count one request for the principal; raise 429 with Retry-After when over the limit."""
        if await self._limiter.hit(self._item, principal):
            return
        stats = await self._limiter.get_window_stats(self._item, principal)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ProblemError(
            429,
            "rate_limited",
            f"more than {self._item} for this caller; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
