"""Group commit: concurrent requests share one ingest call; each gets its own outcomes back.

The ingest function here records its calls: these tests are about the scheduling (who waits for
whom, which thread does the work), which the API tests cannot observe.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any, cast

import pytest

from detection_api.api.batching import GroupCommit
from detection_api.api.ingest import Outcome, Submission


class RecordingIngest:
    """Answers each submission with itself; remembers the groups and the thread of each."""

    def __init__(self, error: Exception | None = None) -> None:
        self.groups: list[list[str]] = []
        self.threads: list[int] = []
        self.error = error

    def __call__(self, submissions: Sequence[Submission]) -> list[Outcome]:
        self.groups.append([str(item) for item in submissions])
        self.threads.append(threading.get_ident())
        if self.error is not None:
            raise self.error
        return cast("list[Outcome]", list(submissions))


def submissions(*names: str) -> list[Submission]:
    # Only identity matters to the scheduler; strings stand in for validated submissions.
    return cast("list[Submission]", list(names))


async def submit_concurrently(commit: GroupCommit, requests: list[list[Submission]]) -> list[Any]:
    commit.start()
    try:
        return await asyncio.gather(
            *(commit.submit(request) for request in requests), return_exceptions=True
        )
    finally:
        await commit.stop()


@pytest.mark.parametrize("offload", [False, True], ids=["in-loop", "worker-thread"])
def test_concurrent_requests_are_committed_together_and_answered_separately(
    offload: bool,
) -> None:
    ingest = RecordingIngest()
    requests = [submissions("a"), submissions("b", "c"), submissions("d")]
    answers = asyncio.run(submit_concurrently(GroupCommit(ingest, 500, offload=offload), requests))
    assert answers == requests
    # The first request starts a group at once; the others queued meanwhile go in the next one.
    assert sum(len(group) for group in ingest.groups) == 4
    assert len(ingest.groups) < len(requests)


def test_a_group_never_exceeds_the_item_cap() -> None:
    ingest = RecordingIngest()
    requests = [submissions(f"{n}a", f"{n}b") for n in range(6)]
    answers = asyncio.run(submit_concurrently(GroupCommit(ingest, 3, offload=False), requests))
    assert answers == requests
    # A request is never split: a group stops growing once it reaches the cap.
    assert all(len(group) <= 4 for group in ingest.groups)
    assert sorted(name for group in ingest.groups for name in group) == sorted(
        name for request in requests for name in request
    )


@pytest.mark.parametrize("offload", [False, True], ids=["in-loop", "worker-thread"])
def test_where_the_group_runs(offload: bool) -> None:
    ingest = RecordingIngest()

    async def scenario() -> int:
        await submit_concurrently(GroupCommit(ingest, 500, offload=offload), [submissions("a")])
        return threading.get_ident()

    loop_thread = asyncio.run(scenario())
    assert (ingest.threads == [loop_thread]) is not offload


@pytest.mark.parametrize("offload", [False, True], ids=["in-loop", "worker-thread"])
def test_every_waiting_request_gets_the_error_of_its_group(offload: bool) -> None:
    ingest = RecordingIngest(error=RuntimeError("database is gone"))
    requests = [submissions("a"), submissions("b"), submissions("c")]
    answers = asyncio.run(submit_concurrently(GroupCommit(ingest, 500, offload=offload), requests))
    assert all(isinstance(answer, RuntimeError) for answer in answers)
    assert str(answers[0]) == "database is gone"
