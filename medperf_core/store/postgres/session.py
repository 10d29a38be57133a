"""A psycopg connection that speaks the shared SQL: `?` placeholders become `%s` (translated once per text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from medperf_core.errors import IntegrityError

_TRANSLATED: dict[str, str] = {}


def translate(sql: str) -> str:
    """`?` → `%s`, a literal `%` → `%%` (the shared SQL has no `?` inside string literals)."""
    found = _TRANSLATED.get(sql)
    if found is None:
        found = _TRANSLATED[sql] = sql.replace("%", "%%").replace("?", "%s")
    return found


_WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteBuffer:
    """A transaction's writes kept as SQL text (bound on the client, with libpq's quoting) and sent together, one
    round trip for many statements: before the transaction's next read, and with its COMMIT."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._client = psycopg.ClientCursor(conn)
        self._statements: list[str] = []

    def add(self, sql: str, parameters: Sequence[Any]) -> None:
        """`sql` with psycopg's `%s` placeholders."""
        self._statements.append(self.bound(sql, parameters))

    def bound(self, sql: str, parameters: Sequence[Any]) -> str:
        """`sql` with its parameters bound on the client (libpq's quoting), as `add` keeps it."""
        return self._client.mogrify(sql, parameters)

    def flush(self, then: str = "") -> None:
        """Send the kept writes (and `then`, e.g. COMMIT) as one query; the first failing statement raises."""
        statements = [*self._statements, then] if then else self._statements
        self._statements = []
        if statements:
            self.conn.execute("; ".join(statements), prepare=False)


class PostgresSession:
    """What projections and read models execute on: one connection, inside the caller's transaction.

    `ids` (an append's transaction) holds, per table, the last id handed out in that transaction. With `writes`,
    INSERT, UPDATE and DELETE statements are kept there (their `execute` answers None) and any other statement
    sends them first, so reads see them."""

    def __init__(
        self, conn: psycopg.Connection[Any], ids: dict[str, int] | None = None, writes: WriteBuffer | None = None
    ) -> None:
        self.conn = conn
        self.ids = ids
        self.writes = writes

    def new_id(self, table: str, allocate_sql: str) -> int:
        """A new id for `table`. Ids are taken only inside appends' transactions, which hold the append lock, so
        within one transaction the ids after the first are the next integers: one round trip to the database per
        table and transaction (a group of appends), instead of one per entity; none for the recorder's `id_tables`,
        whose largest ids the group read when it opened (`ids` holds them). An id whose append fails and is
        rolled back is not given again in that transaction: a gap, as a sequence leaves."""
        last = self.ids.get(table) if self.ids is not None else None
        if last is not None:
            new = last + 1
        else:
            row = self.execute(allocate_sql).fetchone()
            if row is None:  # SELECT setval(...) answers one row
                raise IntegrityError(f"the database gave no new id for {table}", "check its sequences")
            new = int(row[0])
        if self.ids is not None:
            self.ids[table] = new
        return new

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        if self.writes is not None:
            if sql.lstrip()[:6].upper() in _WRITES:
                self.writes.add(translate(sql), list(parameters))
                return None
            self.writes.flush()
        return self.conn.execute(translate(sql), list(parameters))

    def close(self) -> None:
        self.conn.close()
