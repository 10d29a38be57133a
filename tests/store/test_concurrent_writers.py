"""Optimistic concurrency: two writers appending to one stream at the same version, exactly one succeeds."""

from __future__ import annotations

import multiprocessing
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medperf_core.domain.events import ContainerMarkedOperational
from medperf_core.errors import ConcurrencyError
from medperf_core.store import EventStore
from medperf_core.store.sqlite import sqlite_store
from medperf_core.testing.races import race_threads


def _race_threads(store: EventStore, stream: str, version: int, writers: int) -> list[str]:
    return race_threads(
        lambda i: store.append(stream, version, [ContainerMarkedOperational(container_id=i)], actor=f"w{i}"),
        writers,
    )


@settings(max_examples=15, deadline=None)
@given(prior=st.integers(min_value=0, max_value=4), writers=st.integers(min_value=2, max_value=6))
def test_threads_at_the_same_version_exactly_one_wins(prior: int, writers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp) / "events.db") as store:
        for v in range(prior):
            store.append("container-1", v, [ContainerMarkedOperational(container_id=v)], actor="setup")
        outcomes = _race_threads(store, "container-1", prior, writers)
        assert outcomes.count("ok") == 1 and outcomes.count("conflict") == writers - 1
        assert store.load("container-1")[1] == prior + 1
        assert store.verify().ok


def _process_writer(
    path: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue, i: int
) -> None:
    store = sqlite_store(Path(path))
    try:
        start.wait(30)
        store.append("container-1", 0, [ContainerMarkedOperational(container_id=i)], actor=f"process-{i}")
        results.put("ok")
    except ConcurrencyError:
        results.put("conflict")
    except Exception as e:  # reported to the parent rather than lost in the child
        results.put(f"error: {type(e).__name__}: {e}")
    finally:
        store.close()


@pytest.mark.parametrize("writers", [2, 4])
def test_processes_on_the_same_file_exactly_one_wins(tmp_path: Path, writers: int) -> None:
    path = tmp_path / "events.db"
    sqlite_store(path).close()  # create the schema first so the writers only race on the append
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_writer, args=(str(path), start, results, i)) for i in range(writers)]
    for p in procs:
        p.start()
    start.set()
    outcomes = sorted(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    assert outcomes == ["conflict"] * (writers - 1) + ["ok"]
    with sqlite_store(path) as store:
        assert store.load("container-1")[1] == 1
        assert store.verify().ok
