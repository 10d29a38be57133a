"""The server's read model over SQLite: the shared queries (`store/sql/server_reads.py`) on the recorder's file."""

from __future__ import annotations

from medperf_core.store.sql.server_reads import SqlServerReads
from medperf_core.store.sqlite.recorder import SQLiteRecorder


class SQLiteServerReads(SqlServerReads):
    def __init__(self, recorder: SQLiteRecorder) -> None:
        super().__init__(recorder.reading, recorder.head_position)
        self.recorder = recorder
