"""Auditing an event log, the client's or a server's: list, verify, replay, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medperf_core.errors import NotFoundError
from medperf_core.store import EventStore, StoredEvent
from medperf_core.store.store import ReplayReport
from medperf_core.store.verify import VerifyReport


@contextmanager
def open_log(
    store: Path | None = None, server_data_dir: Path | None = None, *, audit: bool = True
) -> Iterator[EventStore[Any]]:
    """The log of a server data directory, of an event store file, or of the active profile.

    `audit=True` opens it as it is (stale projections are not rebuilt first).
    """
    if server_data_dir is not None:
        from medperf_core.server.storage import EVENTS_FILE, open_server_storage

        path = server_data_dir / EVENTS_FILE
        if not path.exists():
            raise NotFoundError(
                f"no server event log at {path}", "pass the directory given to `medperf server start --data-dir`"
            )
        opened = open_server_storage(server_data_dir, audit=audit).store
    else:
        from medperf_core.client_store import open_client_storage

        if store is not None and not store.exists():
            raise NotFoundError(f"no event store at {store}", "check the path")
        opened = open_client_storage(store, audit=audit).store
    try:
        yield opened
    finally:
        opened.close()


def events(log: EventStore[Any], stream: str | None = None) -> list[StoredEvent]:
    return [e for e in log.read_all() if stream is None or e.stream == stream]


def verify(log: EventStore[Any]) -> VerifyReport:
    return log.verify()


def replay(log: EventStore[Any], *, check_only: bool) -> ReplayReport:
    return log.replay(rebuild=not check_only)


def export(log: EventStore[Any], output: Path) -> int:
    """Write the whole log as JSON lines, atomically; returns the number of events."""
    tmp = output.with_name(output.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as f:
        for event in log.read_all():
            f.write(json.dumps(event.as_row(), sort_keys=True, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(output)
    return count
