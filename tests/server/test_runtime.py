"""A server process settles its garbage collector once started: start-up's objects frozen, young collections rarer."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.server.runtime import OLDER_THRESHOLD, YOUNG_THRESHOLD, settle_after_startup


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settling_freezes_what_exists_and_collects_young_objects_less_often(restored_gc: None) -> None:
    survivors = [object() for _ in range(1000)]  # noqa: F841 (alive through the call)
    gc.unfreeze()
    settle_after_startup()
    assert gc.get_freeze_count() >= 1000
    assert gc.get_threshold() == (YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)


def test_the_app_settles_when_it_starts(restored_gc: None, tmp_path: Path) -> None:
    from medperf_core.server.app import create_app
    from medperf_core.server.settings import ServerSettings

    app = create_app(ServerSettings(data_dir=tmp_path))
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)

    async def start_and_stop() -> tuple[int, int]:
        async with app.router.lifespan_context(app):
            return gc.get_threshold()[0], gc.get_freeze_count()

    young, frozen = asyncio.run(start_and_stop())
    assert young == YOUNG_THRESHOLD
    assert frozen > 0
