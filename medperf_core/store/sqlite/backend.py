"""The built-in `sqlite` event-store backend: a log file with the server's or the client's tables beside it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from medperf_core.store.backends import ClientStorage, ServerStorage
from medperf_core.store.sqlite.recorder import SQLiteRecorder
from medperf_core.store.store import EventStore


def _path(location: str) -> Path:
    return Path(location).expanduser()


class SQLiteBackend:
    def open_recorder(self, location: str) -> SQLiteRecorder:
        return SQLiteRecorder(_path(location))

    def open_server(self, location: str, *, audit: bool = False) -> ServerStorage:
        from medperf_core.store.sqlite.server_reads import SQLiteServerReads
        from medperf_core.store.sqlite.server_tables import ServerTables

        recorder = SQLiteRecorder(_path(location))
        store: EventStore[Any] = EventStore(recorder, [ServerTables()], audit=audit)
        return ServerStorage(store, SQLiteServerReads(recorder))

    def describe_server(self, location: str) -> int | None:
        """How many events the log file at `location` holds (None: there is no file)."""
        import sqlite3

        path = _path(location)
        if not path.exists():
            return None
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # a file without a log (never opened by a server)
            return 0
        finally:
            conn.close()

    def reset_server(self, location: str) -> list[str]:
        """Delete the log file and its side files (WAL, SHM, the writers' lock; a server creates a new one); returns
        what was removed."""
        from medperf_core.store.sqlite.recorder import LOCK_SUFFIX

        removed = []
        path = _path(location)
        for suffix in ("", "-wal", "-shm", "-journal", LOCK_SUFFIX):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.unlink()
                removed.append(side.name)
        return removed

    def hold_server(self, location: str, shown: str) -> AbstractContextManager[None]:
        """Held by a running server on this log (a reset refuses meanwhile)."""
        from medperf_core.store.sqlite.occupancy import serving

        return serving(_path(location))

    def claim_server(self, location: str, shown: str) -> AbstractContextManager[None]:
        """Exclusive use of this log for a reset; ConflictError while a server runs on it."""
        from medperf_core.store.sqlite.occupancy import claimed

        return claimed(_path(location), shown)

    def open_client(self, location: str, *, audit: bool = False) -> ClientStorage:
        from medperf_core.store.sqlite.client_reads import SQLiteLocalState
        from medperf_core.store.sqlite.client_tables import CLIENT_PROJECTIONS

        recorder = SQLiteRecorder(_path(location))
        store: EventStore[Any] = EventStore(recorder, CLIENT_PROJECTIONS, audit=audit)
        return ClientStorage(store, SQLiteLocalState(recorder))
