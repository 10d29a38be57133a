"""Auditing an event log, the client's or a server's: list, verify, replay, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medperf_core.errors import IntegrityError, NotFoundError, UserError
from medperf_core.store import EventStore, StoredEvent
from medperf_core.store.store import ReplayReport, refuse_nul
from medperf_core.store.verify import VerifyReport


@contextmanager
def open_log(
    store: Path | None = None,
    server_data_dir: Path | None = None,
    *,
    audit: bool = True,
    database: str | None = None,
) -> Iterator[EventStore[Any]]:
    """The log of a server database (a URL), of a server data directory, of an event store file, or of the active
    profile.

    `audit=True` opens it as it is (stale projections are not rebuilt first).
    """
    if database is not None:
        from medperf_core.server.storage import open_server_storage

        opened = open_server_storage(database, audit=audit).store
    elif server_data_dir is not None:
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
    from medperf_core.atomic import atomic_write

    count = 0
    with atomic_write(output) as f:
        for event in log.read_all():
            f.write(json.dumps(event.as_row(), sort_keys=True, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_export(path: Path) -> Iterator[StoredEvent]:
    """The events of a file written by `export`, checked line by line (IntegrityError names the bad line)."""
    from medperf_core.store.canonical import canonical_json
    from medperf_core.store.verify import verify_rows

    def rows() -> Iterator[dict[str, Any]]:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    yield {**row, "payload": canonical_json(row["payload"])}
                except (ValueError, KeyError, TypeError) as e:
                    raise IntegrityError(f"{path} line {number} is not an exported event ({e})") from None

    report = verify_rows(rows())  # the whole chain first: nothing is written from a broken file
    if not report.ok:
        raise IntegrityError(f"{path}: {report.summary()}", "export the log again from its server")
    for row in rows():
        yield StoredEvent(**{**row, "payload": json.loads(row["payload"])})


def import_log(log: EventStore[Any], path: Path) -> tuple[int, str]:
    """Append an exported log to an empty store, keeping positions, times, actors and so every hash.

    Returns (events imported, head hash). The projections are built from the events as they are appended."""
    if not path.is_file():
        raise NotFoundError(f"no exported log at {path}", "write one with: medperf events export -o FILE")
    if log.head().position:
        raise UserError(
            f"the target database already holds {log.head().position} events",
            "import into a new, empty database (a log cannot be merged into another)",
        )
    from medperf_core.store.recorder import holds_nul

    if not holds_nul(log.recorder):  # found before anything is written, not batches later
        for event in read_export(path):
            refuse_nul(event)
    count = log.restore(read_export(path))
    return count, log.head().hash
