"""The server's tables in SQLite: the shared definition (`store/sql/server_tables.py`) in the SQLite dialect."""

from __future__ import annotations

from medperf_core.store.sql.dialect import SQLITE
from medperf_core.store.sql.server_tables import ServerTables as _ServerTables
from medperf_core.store.sql.server_tables import create_statements, encode


class ServerTables(_ServerTables):
    def __init__(self) -> None:
        super().__init__(SQLITE)


__all__ = ["ServerTables", "create_statements", "encode"]
