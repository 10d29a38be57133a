"""`medperf server reset --database postgresql://...`: drop what a medperf server keeps in its database.

Only medperf's own objects go (the log, the migrations applied, the read model's tables and id sequences, the
projections' bookkeeping), in one transaction holding the append and migration locks, so no append or migration
of a server still running is half-done; anything else in the database stays."""

from __future__ import annotations

from typing import Any

import psycopg

from medperf_core.store.postgres.migrations import MIGRATION_LOCK, MIGRATIONS_TABLE
from medperf_core.store.postgres.recorder import APPEND_LOCK, connect
from medperf_core.store.sql.dialect import POSTGRESQL
from medperf_core.store.sql.projection import BOOKKEEPING
from medperf_core.store.sql.server_tables import ServerTables

EVENTS_TABLE = "events"


def _tables() -> list[str]:
    return [EVENTS_TABLE, MIGRATIONS_TABLE, BOOKKEEPING, *ServerTables(POSTGRESQL).tables]


def _sequences() -> list[str]:
    return [f"{table}_ids" for table in ServerTables(POSTGRESQL).tables]


def _existing(conn: psycopg.Connection[Any], names: list[str]) -> list[str]:
    found = []
    for name in names:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{name}"']).fetchone()
        if row is not None and row[0]:
            found.append(name)
    return found


def event_count(conninfo: str) -> int | None:
    """How many events the database's log holds (None: it holds no medperf log)."""
    with connect(conninfo, autocommit=True) as conn:
        if not _existing(conn, [EVENTS_TABLE]):
            return None
        row = conn.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}").fetchone()
        return int(row[0]) if row else 0


def drop_server_schema(conninfo: str) -> list[str]:
    """Drop medperf's tables and sequences; returns the names dropped (none: there was nothing to drop)."""
    with connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])
        tables, sequences = _existing(conn, _tables()), _existing(conn, _sequences())
        for table in tables:
            conn.execute(f'DROP TABLE "{table}" CASCADE')
        for sequence in sequences:
            conn.execute(f'DROP SEQUENCE "{sequence}"')
    return tables + sequences
