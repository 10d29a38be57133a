"""A psycopg connection that speaks the shared SQL: `?` placeholders become `%s` (translated once per text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

_TRANSLATED: dict[str, str] = {}


def translate(sql: str) -> str:
    """`?` → `%s`, a literal `%` → `%%` (the shared SQL has no `?` inside string literals)."""
    found = _TRANSLATED.get(sql)
    if found is None:
        found = _TRANSLATED[sql] = sql.replace("%", "%%").replace("?", "%s")
    return found


class PostgresSession:
    """What projections and read models execute on: one connection, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(translate(sql), list(parameters))

    def close(self) -> None:
        self.conn.close()
