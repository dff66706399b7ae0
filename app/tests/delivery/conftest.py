"""Fixtures for delivery tests: a real TAK peer on loopback, in its own event loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from detection_api.taksink import TakSink


class ThreadedSink:
    """A TakSink in its own event loop thread, stoppable and restartable from the test."""

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sink = TakSink(**options)

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self.call(self.sink.start())

    def stop(self) -> None:
        self.call(self.sink.stop())

    @property
    def url(self) -> str:
        return self.sink.url

    def uids(self) -> list[str]:
        return list(self.sink.uids)

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def sink() -> Iterator[ThreadedSink]:
    threaded = ThreadedSink()
    threaded.start()
    yield threaded
    threaded.close()
