"""The PostgreSQL schema of the event log: numbered migrations, applied once each, under an advisory lock.

`medperf server migrate --database URL` applies the pending ones; opening a store applies them too (as SQLite
does), so a migration must be safe to apply while an older server still runs (add, never drop in place).
"""

from __future__ import annotations

from typing import Any

import psycopg

MIGRATIONS_TABLE = "medperf_migrations"
MIGRATION_LOCK = 0x6D65_6470_0001  # pg_advisory_xact_lock key: one migrator at a time

# (name, statements): never edit an applied migration; add the next one.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_create_events",
        [
            """CREATE TABLE IF NOT EXISTS events (
                position BIGINT PRIMARY KEY CHECK (position >= 1),
                stream TEXT NOT NULL,
                version BIGINT NOT NULL CHECK (version >= 1),
                type TEXT NOT NULL,
                schema_version INTEGER NOT NULL,
                recorded_at TEXT NOT NULL,
                actor TEXT NOT NULL,
                payload TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL,
                UNIQUE (stream, version)
            )""",
        ],
    ),
    ("0002_index_events_type", ["CREATE INDEX IF NOT EXISTS events_type ON events (type)"]),
]


def applied(conn: psycopg.Connection[Any]) -> list[str]:
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [MIGRATIONS_TABLE]).fetchone()
    if not exists or not exists[0]:
        return []
    return [str(r[0]) for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name").fetchall()]


def pending(conn: psycopg.Connection[Any]) -> list[str]:
    done = set(applied(conn))
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply every pending migration in one transaction; returns the names applied (none: up to date)."""
    if not pending(conn):
        return []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ "
            "NOT NULL DEFAULT now())"
        )
        done = set(applied(conn))  # again, under the lock: another process may have just migrated
        new = []
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (name) VALUES (%s)", [name])
            new.append(name)
    return new
