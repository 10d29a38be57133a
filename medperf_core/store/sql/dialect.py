"""What differs between the SQL databases the server's read model lives in: column types and the catalog.

Everything else (CREATE TABLE, INSERT, UPDATE, SELECT, `ON CONFLICT ... DO UPDATE`) is written once, portable,
with `?` placeholders; a PostgreSQL session translates them to psycopg's `%s`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import attrs


class Cursor(Protocol):
    description: Any

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Session(Protocol):
    """A connection inside a transaction (sqlite-utils' `Database` is one; so is `PostgresSession`)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ...) -> Any: ...


@runtime_checkable
class AllocatesIds(Protocol):
    """A session that hands out new ids itself (`PostgresSession`: one round trip per table and transaction)."""

    def new_id(self, table: str, allocate_sql: str) -> int: ...


@attrs.frozen
class Dialect:
    name: str
    integer: str  # the column type of int and bool fields
    table_exists_sql: str  # one `?`: the table's name; answers one row when it exists
    columns_sql: str  # one `?`: the table's name; answers its column names in order
    # A new entity's id ({table}: its table). Writers that take the same id conflict and retry, so the allocation
    # must rarely hand one id to two writers at once.
    next_id_sql: str = 'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"'
    id_sequence_sql: str = ""  # created with each table when next_id_sql needs it ({table})

    def table_exists(self, session: Session, table: str) -> bool:
        return session.execute(self.table_exists_sql, [table]).fetchone() is not None

    def columns(self, session: Session, table: str) -> list[str]:
        return [str(r[0]) for r in session.execute(self.columns_sql, [table]).fetchall()]


SQLITE = Dialect(
    name="sqlite",
    integer="INTEGER",
    table_exists_sql="SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    columns_sql="SELECT name FROM pragma_table_info(?) ORDER BY cid",
)

# `to_regclass` follows the search path, so a scratch session (search_path = pg_temp) sees its own tables.
# Ids come from a sequence per table (never the same value twice, whatever the number of processes), kept at least
# one above the highest id so that imported or rebuilt rows are never reused; gaps are possible, as in MedPerf.
POSTGRESQL = Dialect(
    name="postgresql",
    integer="BIGINT",
    table_exists_sql="SELECT 1 WHERE to_regclass(?) IS NOT NULL",
    columns_sql=(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum"
    ),
    next_id_sql=(
        "SELECT setval('\"{table}_ids\"', GREATEST(nextval('\"{table}_ids\"'), "
        '(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}")))'
    ),
    id_sequence_sql='CREATE SEQUENCE IF NOT EXISTS "{table}_ids"',
)
