"""A minimal in-memory event recorder: the worked example of a recorder plugin (CONTRIBUTING.md).

It keeps the log in a list, enforces expected versions under a lock, chains hashes exactly as the SQLite recorder
does, and offers projections a plain dict as their session. It passes `RecorderContract`; it keeps nothing after
the process ends, so it holds only bare logs (no server or client state).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from medperf_core.errors import ConcurrencyError, UserError
from medperf_core.store.backends import ClientStorage, ServerStorage
from medperf_core.store.canonical import canonical_json, event_hash
from medperf_core.store.recorder import LogHead, StreamAppend
from medperf_core.store.records import StoredEvent

Session = dict[str, Any]  # a projection's tables: name -> anything it keeps


class MemoryRecorder:
    def __init__(self) -> None:
        self._events: list[StoredEvent] = []
        self._versions: dict[str, int] = {}
        self._tables: Session = {}
        self._lock = threading.RLock()

    def append(
        self, appends: Sequence[StreamAppend], apply: Callable[[Session, StoredEvent], None] | None = None
    ) -> list[StoredEvent]:
        with self._lock:
            for batch in appends:  # check every stream before storing anything
                current = self._versions.get(batch.stream, 0)
                if current != batch.expected_version:
                    raise ConcurrencyError(
                        f"{batch.stream} is at version {current}, not {batch.expected_version}", "reload and retry"
                    )
            head = self.head()
            position, prev_hash = head.position, head.hash
            stored: list[StoredEvent] = []
            versions = dict(self._versions)
            for batch in appends:
                for new in batch.events:
                    position += 1
                    versions[batch.stream] = versions.get(batch.stream, 0) + 1
                    row: dict[str, Any] = {
                        "position": position, "stream": batch.stream, "version": versions[batch.stream],
                        "type": new.type, "schema_version": new.schema_version, "recorded_at": new.recorded_at,
                        "actor": new.actor, "payload": new.payload,
                    }
                    digest = event_hash(prev_hash, row)
                    stored.append(StoredEvent(prev_hash=prev_hash, hash=digest, **row))
                    prev_hash = digest
            tables = {k: _copy(v) for k, v in self._tables.items()}
            if apply is not None:
                for event in stored:
                    apply(tables, event)  # raises: nothing below runs, nothing was changed
            self._events += stored
            self._versions = versions
            self._tables = tables
            return stored

    def read_stream(self, stream: str) -> list[StoredEvent]:
        with self._lock:
            return [e for e in self._events if e.stream == stream]

    def read_all(self, after: int = 0) -> Iterator[StoredEvent]:
        with self._lock:
            events = list(self._events[max(after, 0):])
        return iter(events)

    def read_raw(self, after: int | None = None) -> Iterator[dict[str, Any]]:
        for event in self.read_all(after or 0):
            row = event.as_row()
            row["payload"] = canonical_json(event.payload)
            yield row

    def head(self) -> LogHead:
        with self._lock:
            return LogHead(self._events[-1].position, self._events[-1].hash) if self._events else LogHead()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._lock:
            tables = {k: _copy(v) for k, v in self._tables.items()}
            yield tables
            self._tables = tables

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._lock:
            yield self._tables

    def scratch(self) -> Session:
        return {}

    def close(self) -> None:
        pass


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


class MemoryBackend:
    """Registered as `memory` (URLs `memory:`); one log per process and location."""

    _logs: ClassVar[dict[str, MemoryRecorder]] = {}

    def open_recorder(self, location: str) -> MemoryRecorder:
        return self._logs.setdefault(location, MemoryRecorder())

    def open_server(self, location: str, *, audit: bool = False) -> ServerStorage:
        raise UserError("the memory recorder keeps bare logs only", "use sqlite:///PATH for a server")

    def open_client(self, location: str, *, audit: bool = False) -> ClientStorage:
        raise UserError("the memory recorder keeps bare logs only", "use sqlite:///PATH for a client")

