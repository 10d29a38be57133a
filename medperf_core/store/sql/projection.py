"""The base of projections kept in any SQL database: tables from a schema, built-version bookkeeping, snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from medperf_core.domain.events import DomainEvent
from medperf_core.store.records import StoredEvent
from medperf_core.store.sql.dialect import SQLITE, Dialect, Session

BOOKKEEPING = "_projections"
S = TypeVar("S", bound=Session)  # the session its `apply` writes to (sqlite-utils' Database for the client's tables)


def table_rows(dialect: Dialect, session: Session, table: str) -> list[tuple[Any, ...]]:
    """Every row, columns in name order, sorted (None first), to compare a live table with a rebuilt one."""
    if not dialect.table_exists(session, table):
        return []
    select = ", ".join(f'"{c}"' for c in sorted(dialect.columns(session, table)))
    return sorted(
        (tuple(r) for r in session.execute(f'SELECT {select} FROM "{table}"').fetchall()),
        key=lambda row: tuple((v is not None, v if v is not None else 0) for v in row),
    )


class SqlProjection(Generic[S]):
    """Subclasses set name, version, tables, `schema()` (CREATE statements) or `create()`, and `apply`;
    `dialect` says where."""

    name: str = ""
    version: int = 1
    tables: Sequence[str] = ()

    def __init__(self, dialect: Dialect = SQLITE) -> None:
        self.dialect = dialect

    def schema(self) -> Sequence[str]:
        raise NotImplementedError

    def built_version(self, session: S) -> int | None:
        if not self.dialect.table_exists(session, BOOKKEEPING):
            return None
        row = session.execute(f'SELECT version FROM "{BOOKKEEPING}" WHERE name = ?', [self.name]).fetchone()
        return None if row is None else int(row[0])

    def create(self, session: S) -> None:
        """Create the (dropped) tables: by default the statements of `schema()`."""
        for statement in self.schema():
            session.execute(statement)

    def reset(self, session: S) -> None:
        for table in self.tables:
            session.execute(f'DROP TABLE IF EXISTS "{table}"')
        self.create(session)
        session.execute(f'CREATE TABLE IF NOT EXISTS "{BOOKKEEPING}" (name TEXT PRIMARY KEY, version INTEGER)')
        session.execute(
            f'INSERT INTO "{BOOKKEEPING}" (name, version) VALUES (?, ?) '
            "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
            [self.name, self.version],
        )

    def apply(self, session: S, event: DomainEvent, stored: StoredEvent) -> None:
        raise NotImplementedError

    def snapshot(self, session: S) -> dict[str, list[tuple[Any, ...]]]:
        return {table: table_rows(self.dialect, session, table) for table in self.tables}
