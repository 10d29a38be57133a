"""The base of SQLite projections: the SQL projection base on SQLite's dialect (the client's tables, tests)."""

from __future__ import annotations

from sqlite_utils import Database

from medperf_core.store.sql.projection import SqlProjection


class SQLiteProjection(SqlProjection[Database]):
    """Subclasses set name, version, tables and `schema()` (CREATE statements) or `create()`, and `apply`."""
