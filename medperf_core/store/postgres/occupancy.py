"""Whether a server runs on a PostgreSQL database: a session-level shared advisory lock held for the server's life.

`medperf server start` holds it shared on a connection of its own; `medperf server reset` takes it exclusively, so
a reset refuses while a server (of any host) uses the database. PostgreSQL drops a session's locks when its
connection ends, so a killed server never leaves the database looking busy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from medperf_core.errors import ConflictError
from medperf_core.store.postgres.recorder import connect

SERVER_LOCK = 0x6D65_6470_0003  # pg_advisory_lock key: shared by running servers, exclusive for a reset
APPLICATION_NAME = "medperf server"


@contextmanager
def serving(conninfo: str, shown: str) -> Iterator[None]:
    """Held by a running server; ConflictError when a reset of this database is under way."""
    with connect(conninfo, autocommit=True, application_name=APPLICATION_NAME) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock_shared(%s)", [SERVER_LOCK]).fetchone()
        if not (row and row[0]):
            raise ConflictError(f"the server database {shown} is being reset",
                                "wait for `medperf server reset` to finish, then start the server again")
        yield  # the lock ends with the connection


def _holders(conn: psycopg.Connection[Any]) -> str:
    """Where the servers holding the lock connect from, for the refusal message."""
    rows = conn.execute(
        "SELECT DISTINCT COALESCE(host(a.client_addr), 'local socket') FROM pg_locks l JOIN pg_stat_activity a "
        "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ShareLock' "
        "AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1",
        [SERVER_LOCK >> 32, SERVER_LOCK & 0xFFFF_FFFF],
    ).fetchall()
    return f" (connected from {', '.join(str(r[0]) for r in rows)})" if rows else ""


@contextmanager
def claimed(conninfo: str, shown: str) -> Iterator[None]:
    """Exclusive use of the database's medperf server (no server runs on it while inside)."""
    with connect(conninfo, autocommit=True, application_name="medperf server reset") as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [SERVER_LOCK]).fetchone()
        if not (row and row[0]):
            raise ConflictError(f"a medperf server is using the database {shown}{_holders(conn)}",
                                "stop that server first, then run `medperf server reset` again")
        yield
