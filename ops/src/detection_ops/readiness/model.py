"""Checks, their registry and their results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detection_ops.readiness.sources import Sources


class UnmetError(Exception):
    """A check found the evidence missing or wrong; the message says where and why."""


def require(condition: object, reason: str) -> None:
    """Fail the running check with `reason` (file, key and what was expected) unless true."""
    if not condition:
        raise UnmetError(reason)


def present[T](value: T | None, reason: str) -> T:
    """The value, or a failure of the running check with `reason` when it is None."""
    if value is None:
        raise UnmetError(reason)
    return value


CheckFunction = Callable[["Sources"], str]


@dataclass(frozen=True)
class Check:
    """One checklist item: the function proving it and the test that proves it in depth.

    `proof` is `path::test_function`; the check fails when that test no longer exists, so the
    evidence it names cannot rot. `scope` says how far a cloud-only item can be shown by the repo.
    """

    section: str
    item: str
    run: CheckFunction
    proof: str
    scope: str = ""


REGISTRY: list[Check] = []


def check(
    section: str, item: str, proof: str, scope: str = ""
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the automated check of one checklist item."""

    def register(function: CheckFunction) -> CheckFunction:
        REGISTRY.append(Check(section, item, function, proof, scope))
        return function

    return register


@dataclass(frozen=True)
class Outcome:
    section: str
    item: str
    passed: bool
    evidence: str
