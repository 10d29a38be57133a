"""tests/e2e: the tutorial through the real CLI, a real server process and real containers."""

from __future__ import annotations

import pytest
from _e2e import tutorial_factory  # noqa: F401  (the fixture)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
