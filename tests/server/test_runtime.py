"""A server process, once started: its garbage collector settled (start-up's objects frozen, young collections
rarer) and its thread pool (the event loop's default executor) sized for its database."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.server.runtime import (
    DEFAULT_THREADS,
    OLDER_THRESHOLD,
    SQLITE_THREADS,
    YOUNG_THRESHOLD,
    request_threads,
    settle_after_startup,
)
from medperf_core.server.settings import ServerSettings


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

    app = create_app(ServerSettings(data_dir=tmp_path))
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)

    async def start_and_stop() -> tuple[int, int]:
        async with app.router.lifespan_context(app):
            return gc.get_threshold()[0], gc.get_freeze_count()

    young, frozen = asyncio.run(start_and_stop())
    assert young == YOUNG_THRESHOLD
    assert frozen > 0


@pytest.mark.parametrize(
    ("database", "threads", "expected"),
    [(None, None, SQLITE_THREADS), ("sqlite:///srv/events.db", None, SQLITE_THREADS),
     ("postgresql://u@h/db", None, DEFAULT_THREADS), (None, 3, 3), ("postgresql://u@h/db", 64, 64)],
)
def test_the_thread_pool_is_sized_by_database_unless_told(
    tmp_path: Path, database: str | None, threads: int | None, expected: int
) -> None:
    assert request_threads(ServerSettings(data_dir=tmp_path, database=database, threads=threads)) == expected


@pytest.mark.parametrize(("threads", "expected"), [(None, SQLITE_THREADS), (3, 3)])
def test_the_app_gives_its_loop_a_thread_pool_of_that_size_when_it_starts(
    restored_gc: None, tmp_path: Path, threads: int | None, expected: int
) -> None:
    import anyio.to_thread

    from medperf_core.server.app import create_app

    app = create_app(ServerSettings(data_dir=tmp_path, threads=threads))

    def thread_name() -> str:
        time.sleep(0.05)  # long enough that the pool starts as many threads as it may
        return threading.current_thread().name

    async def start_and_stop() -> tuple[float, set[str]]:
        async with app.router.lifespan_context(app):
            loop = asyncio.get_running_loop()
            names = await asyncio.gather(*(loop.run_in_executor(None, thread_name) for _ in range(2 * expected)))
            return anyio.to_thread.current_default_thread_limiter().total_tokens, set(names)

    tokens, names = asyncio.run(start_and_stop())
    assert tokens == expected
    assert len(names) == expected and all(n.startswith("medperf-request") for n in names), names
