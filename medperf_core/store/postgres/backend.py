"""The `postgresql` event-store backend: a server's log and read model in one PostgreSQL database."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from medperf_core.errors import UserError
from medperf_core.store.backends import ClientStorage, ServerStorage
from medperf_core.store.postgres.recorder import PostgresRecorder
from medperf_core.store.sql.dialect import POSTGRESQL
from medperf_core.store.sql.server_reads import SqlServerReads
from medperf_core.store.sql.server_tables import ServerTables
from medperf_core.store.store import EventStore


def conninfo(location: str) -> str:
    """`USER@HOST/DB` (what follows `postgresql://` in the URL) as a libpq URL."""
    return f"postgresql://{location}"


class PostgresBackend:
    def open_recorder(self, location: str) -> PostgresRecorder:
        return PostgresRecorder(conninfo(location))

    def open_server(self, location: str, *, audit: bool = False) -> ServerStorage:
        tables = ServerTables(POSTGRESQL)
        recorder = PostgresRecorder(conninfo(location), id_tables=tables.tables)
        try:
            store: EventStore[Any] = EventStore(recorder, [tables], audit=audit)
        except BaseException:
            recorder.close()
            raise
        return ServerStorage(store, SqlServerReads(
            recorder.reading, recorder.head_position, POSTGRESQL, recorder.head_position_async, recorder.aclose
        ))

    def describe_server(self, location: str) -> int | None:
        """How many events the server's log at `location` holds (None: there is none)."""
        from medperf_core.store.postgres.reset import event_count

        return event_count(conninfo(location))

    def reset_server(self, location: str) -> list[str]:
        """Drop the server's log and read model, then create them again, empty; returns what was dropped."""
        from medperf_core.store.postgres.reset import drop_server_schema

        dropped = drop_server_schema(conninfo(location))
        self.open_server(location).store.close()  # the schema of a new server: migrations and empty tables
        return dropped

    def hold_server(self, location: str, shown: str) -> AbstractContextManager[None]:
        """Held by a running server on this database (a reset refuses meanwhile)."""
        from medperf_core.store.postgres.occupancy import serving

        return serving(conninfo(location), shown)

    def claim_server(self, location: str, shown: str) -> AbstractContextManager[None]:
        """Exclusive use of this database's medperf server for a reset; ConflictError while a server uses it."""
        from medperf_core.store.postgres.occupancy import claimed

        return claimed(conninfo(location), shown)

    def open_client(self, location: str, *, audit: bool = False) -> ClientStorage:
        raise UserError(
            "a client keeps its own log in SQLite, not in PostgreSQL",
            "use PostgreSQL for a server (medperf server start --database postgresql://...)",
        )
