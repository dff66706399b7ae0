"""Geo tests treat numpy RuntimeWarnings (NaN, divide by zero) as errors: refusals must come out
as data, never as NaN arithmetic leaking through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.filterwarnings("error::RuntimeWarning"))
