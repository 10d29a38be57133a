"""The PostgreSQL recorder: the `events` table with UNIQUE (stream, version), a hash chain, projections in the
append's transaction.

Appends of every process and host are serialised by one transaction-scoped advisory lock (the hash chain needs each
event's predecessor, and positions stay gapless); the expected version is checked inside that transaction and the
unique (stream, version) constraint backs it. Reads use the pool's autocommit connections, never the lock.
A thread inside `transaction()` or `reading()` reuses its connection for every call it makes, so a rebuild reads
what it has written and never waits for a second connection of the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from medperf_core.errors import ConcurrencyError, ConfigError, ConflictError
from medperf_core.store.backends import redact_url
from medperf_core.store.canonical import GENESIS_HASH
from medperf_core.store.group_commit import GroupCommit, PendingAppend
from medperf_core.store.postgres.migrations import migrate
from medperf_core.store.postgres.session import PostgresSession, WriteBuffer
from medperf_core.store.recorder import COLUMNS, DecideAppends, LogHead, StreamAppend, chained_rows
from medperf_core.store.records import StoredEvent

APPEND_LOCK = 0x6D65_6470_0002  # pg_advisory_xact_lock key held by every append and rebuild
POOL_SIZE_ENV = "MEDPERF_POSTGRES_POOL_SIZE"  # connections per server process (default 8)


def _pool_size() -> int:
    raw = os.environ.get(POOL_SIZE_ENV, "8")
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 2:  # a rebuild holds one connection while the pool serves others
        raise ConfigError(f"{POOL_SIZE_ENV}={raw!r} must be an integer of at least 2", "unset it or use e.g. 8")
    return size


def _checked_streams(group: Sequence[PendingAppend[Any]]) -> list[str]:
    """The streams whose versions the group's known appends check (not those decided inside the transaction)."""
    streams = {
        batch.stream
        for pending in group
        if not callable(pending.appends)
        for batch in pending.appends
        if batch.expected_version != 0 or not batch.events
    }
    return sorted(streams)


def _rows(cursor: psycopg.Cursor[Any]) -> list[Any]:
    """The rows of the cursor's current result (none for a command such as BEGIN)."""
    return cursor.fetchall() if cursor.description is not None else []


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        position=int(row[0]), stream=row[1], version=int(row[2]), type=row[3], schema_version=int(row[4]),
        recorded_at=row[5], actor=row[6], payload=json.loads(row[7]), prev_hash=row[8], hash=row[9],
    )


def _version_conflict(stream: str, current: int, expected: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"{stream} changed meanwhile: it is at version {current}, the decision was made at version {expected}",
        "someone else changed it at the same time: run the command again to decide on the new state",
    )


def _told_apart(error: BaseException) -> BaseException:
    """A database error of an append as the error the services know. A queued statement's error (pipeline mode)
    surfaces later than the statement, so they are told apart by the table they name."""
    if not isinstance(error, pg_errors.IntegrityError):
        return error
    if error.diag.table_name == "events":  # (stream, version) taken: the constraint that backs the check
        concurrency = ConcurrencyError(
            f"a stream changed meanwhile ({error.diag.message_detail or error})",
            "someone else changed it at the same time: run the command again to decide on the new state",
        )
        concurrency.__cause__ = error
        return concurrency
    detail = error.diag.message_detail or str(error)  # a unique column of a read model, e.g. a name
    conflict = ConflictError(f"this conflicts with an existing entry ({detail})", "choose another value")
    conflict.__cause__ = error
    return conflict


def connect(conninfo: str, **kw: Any) -> psycopg.Connection[Any]:
    """One connection, or a ConfigError naming the database and libpq's reason."""
    try:
        return psycopg.connect(conninfo, connect_timeout=10, **kw)
    except psycopg.OperationalError as e:
        reason = " ".join(str(e).split())
        raise ConfigError(
            f"cannot connect to PostgreSQL at {redact_url(conninfo)}: {reason}",
            "check the URL (postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE), that the database exists and "
            "that the server accepts this user",
        ) from None


class PostgresRecorder:
    decides_in_transaction = True  # `append` also takes a function of the session that decides the appends
    holds_nul = False  # PostgreSQL text cannot hold U+0000: `EventStore.restore` refuses such an event up front

    def __init__(self, conninfo: str, *, pool_size: int | None = None, id_tables: Sequence[str] = ()) -> None:
        """`id_tables`: tables whose new ids appends take (`PostgresSession.new_id`); a group reads their largest
        ids in the round trip that opens it, so that its creates need no round trip of their own for an id."""
        from psycopg_pool import ConnectionPool

        self.conninfo = conninfo
        with connect(conninfo, autocommit=True) as conn:  # a clear error first, and the schema up to date
            self.migrations_applied = migrate(conn)
        self._pool: ConnectionPool[Any] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size or _pool_size(),
            kwargs={"autocommit": True, "connect_timeout": 10},
            open=True,
            name="medperf",
        )
        self._local = threading.local()
        self._groups: GroupCommit[PostgresSession] = GroupCommit(self._commit)
        self._id_tables = tuple(id_tables)
        largest = ", ".join(f'(SELECT COALESCE(MAX(id), 0) FROM "{table}")' for table in self._id_tables)
        self._open_group = f"BEGIN; SELECT pg_advisory_xact_lock({APPEND_LOCK}); {self._HEAD}" + (
            f"; SELECT {largest}" if largest else ""
        )
        self._async_heads: dict[asyncio.AbstractEventLoop, psycopg.AsyncConnection[Any]] = {}

    def close(self) -> None:
        self._pool.close()

    # --- connections and transactions -----------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection if it is inside a transaction or a read, else one from the pool."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        with self._connection() as conn:
            if getattr(self._local, "writing", False):  # nested in this thread's own transaction: join it
                yield conn
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])
                self._local.writing, self._local.ids = True, {}
                try:
                    yield conn
                finally:
                    self._local.writing, self._local.ids = False, None

    @contextmanager
    def transaction(self) -> Iterator[PostgresSession]:
        with self._write() as conn:
            yield PostgresSession(conn, self._local.ids)

    @contextmanager
    def reading(self) -> Iterator[PostgresSession]:
        with self._connection() as conn:
            yield PostgresSession(conn)

    def scratch(self) -> PostgresSession:
        """A new connection whose tables are temporary (search_path = pg_temp): gone when it closes."""
        conn = connect(self.conninfo, autocommit=True)
        conn.execute("SET search_path = pg_temp")
        return PostgresSession(conn)

    # --- writing --------------------------------------------------------------------------------------------

    def append(
        self,
        appends: Sequence[StreamAppend] | DecideAppends,
        apply: Callable[[PostgresSession, StoredEvent], None] | None = None,
    ) -> list[StoredEvent]:
        """Appends of this process's threads that arrive while one commits are committed together (group commit):
        one thread leads, puts every waiting append into one transaction and commits once; every thread returns
        only after that COMMIT, so each append is as durable as alone, while one fsync under the append lock serves
        many. An append that fails (its version check, a unique column) raises in its own thread and the others are
        stored (`_commit`). `appends` may be a function of the session, called inside the transaction."""
        if getattr(self._local, "writing", False):  # inside this thread's own transaction (a rebuild): join it
            with self._write() as conn:
                try:
                    return self._append_one(conn, appends, apply, None)[0]
                except pg_errors.IntegrityError as e:  # e.g. a new stream that exists: the constraint said so
                    raise _told_apart(e) from e
        return self._groups.append(appends, apply)

    @property
    def commits(self) -> int:
        """Transactions of append() so far, a group counted once."""
        return self._groups.commits

    def _commit(self, group: list[PendingAppend[PostgresSession]]) -> None:
        """One transaction for the group; sets each one's events or error, never raises.

        A group (of one too) is first tried whole, without savepoints, in about three round trips (`_commit_whole`).
        If any of its appends fails (a version check, a unique column), that transaction is rolled back and the
        group is committed again in pipeline mode with a savepoint per append, so that only the failing ones fail
        (each savepoint's end waits for the database, so this costs a round trip per append)."""
        if self._commit_whole(group):
            return
        try:  # pipelined: each savepoint's end syncs, so an error stays in its own savepoint
            with self._connection() as conn, conn.pipeline(), self._write() as conn:
                last: tuple[int, str] | None = None
                for pending in group:
                    try:
                        with conn.transaction():  # a savepoint
                            pending.stored, after = self._append_one(conn, pending.appends, pending.apply, last)
                        last = after
                    except Exception as e:  # rolled back to the savepoint: the others go on
                        pending.fail(_told_apart(e))
        except Exception as e:  # the transaction failed (COMMIT, the connection): nothing of it is stored
            for pending in group:
                if pending.error is None:
                    pending.fail(_told_apart(e))

    def _commit_whole(self, group: list[PendingAppend[PostgresSession]]) -> bool:
        """The group in one transaction without savepoints, its writes sent together with the COMMIT: BEGIN, the
        lock, the log's last row, the id tables' largest ids and the versions of the streams the appends check in
        one round trip, then only the decisions' own reads, then the writes and COMMIT in one. False (nothing
        stored, rolled back) if an append failed; a lost connection fails the whole group (its COMMIT may or may
        not have happened, so it is not tried again)."""
        stored: list[list[StoredEvent]] = []
        checked = _checked_streams(group)
        with self._connection() as conn:
            writes = WriteBuffer(conn)
            self._local.writing, self._local.ids = True, {}
            try:
                query = self._open_group + (f"; {writes.bound(self._VERSIONS, [checked])}" if checked else "")
                opened = conn.execute(query, prepare=False)
                answers = [_rows(opened)]  # BEGIN, the lock, the head, the largest ids, the versions: one each
                while opened.nextset():
                    answers.append(_rows(opened))
                head = answers[2]
                last: tuple[int, str] | None = (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS_HASH)
                if self._id_tables:  # taken under the lock: the next ids are these plus one, and so on
                    self._local.ids = {t: int(v) for t, v in zip(self._id_tables, answers[3][0], strict=True)}
                if checked:  # read under the lock too: only this transaction changes them, and `_insert` follows
                    self._local.versions = {stream: 0 for stream in checked} | {
                        str(stream): int(version) for stream, version in answers[-1]}
                for pending in group:
                    events, last = self._append_one(conn, pending.appends, pending.apply, last, writes)
                    stored.append(events)
                writes.flush(then="COMMIT")
            except Exception as e:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                if not isinstance(e, psycopg.OperationalError):  # the caller tells the failing appends apart
                    return False
                for pending in group:  # the connection: the COMMIT is in doubt, the whole group fails
                    pending.fail(_told_apart(e))
                return True
            finally:
                self._local.writing, self._local.ids, self._local.versions = False, None, None
        for pending, events in zip(group, stored, strict=True):
            pending.stored = events
        return True

    def _append_one(
        self, conn: psycopg.Connection[Any], appends: Sequence[StreamAppend] | DecideAppends,
        apply: Callable[[PostgresSession, StoredEvent], None] | None, last: tuple[int, str] | None,
        writes: WriteBuffer | None = None,
    ) -> tuple[list[StoredEvent], tuple[int, str] | None]:
        """The append's rows (and its projections' updates); returns them and the log's new last (position, hash).
        `last` is the log's last row if an earlier append of this transaction knows it; else it is read here, sent
        before the decision so that in pipeline mode both reach the database in one round trip. With `writes`,
        the inserts and the projections' writes are kept there."""
        head = None if last is not None else conn.execute(self._HEAD, prepare=True)
        if callable(appends):
            appends = appends(PostgresSession(conn, self._local.ids, writes))
        if last is None:  # then `head` was sent above
            row = head.fetchone() if head is not None else None
            last = (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)
        stored: list[StoredEvent] = []
        for batch in appends:
            events, last = self._insert(conn, batch, last, writes)
            stored += events
        if apply is not None:
            session = PostgresSession(conn, None, writes)
            for event in stored:
                apply(session, event)
        return stored, last

    _HEAD = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
    _VERSION = "SELECT MAX(version) FROM events WHERE stream = %s"
    _VERSIONS = "SELECT stream, MAX(version) FROM events WHERE stream = ANY(%s) GROUP BY stream"

    def _insert(
        self, conn: psycopg.Connection[Any], batch: StreamAppend, last: tuple[int, str],
        writes: WriteBuffer | None = None,
    ) -> tuple[list[StoredEvent], tuple[int, str]]:
        """The batch's rows after the stream's version check; returns them and the new last (position, hash).

        A batch that creates a stream (events at version 0) is checked by the unique (stream, version) constraint
        alone: a stream that exists has a version 1, which the first row would take again, so the insert fails (and
        `_told_apart` makes that a ConcurrencyError). Other batches (an existing stream's, or an empty guard) are
        checked against the version their group read when it opened (`_local.versions`, kept up to date by every
        insert of the transaction), else they read it: one round trip."""
        stream, expected_version = batch.stream, batch.expected_version
        versions: dict[str, int] | None = getattr(self._local, "versions", None)
        if expected_version != 0 or not batch.events:
            current = versions.get(stream) if versions is not None else None
            if current is None:
                if writes is not None:
                    writes.flush()  # the stream may have been written earlier in this transaction
                current = self._version_in(conn, stream)
            if current != expected_version:
                raise _version_conflict(stream, current, expected_version)
        if versions is not None and stream in versions:
            versions[stream] = expected_version + len(batch.events)
        if not batch.events:
            return [], last
        position, prev_hash = last
        stored, rows = chained_rows(batch, position, prev_hash)
        insert = f"INSERT INTO events ({COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
        if writes is not None:
            for values_row in rows:
                writes.add(insert, values_row)
        else:
            with conn.cursor() as cursor:
                cursor.executemany(insert, rows)
        return stored, (stored[-1].position, stored[-1].hash)

    # --- reading --------------------------------------------------------------------------------------------

    def stream_version(self, stream: str) -> int:
        """The stream's version (0 when it has none) from the (stream, version) index, without its events."""
        with self._connection() as conn:
            return self._version_in(conn, stream)

    def _version_in(self, conn: psycopg.Connection[Any], stream: str) -> int:
        row = conn.execute(self._VERSION, [stream], prepare=True).fetchone()
        return int(row[0] or 0) if row else 0

    def read_stream(self, stream: str) -> list[StoredEvent]:
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM events WHERE stream = %s ORDER BY version", [stream]
            ).fetchall()
        return [_stored(r) for r in rows]

    def _batches(self, after: int | None, batch: int) -> Iterator[list[Any]]:
        position = after if after is not None else 0
        while True:
            with self._connection() as conn:
                rows = conn.execute(
                    f"SELECT {COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT %s", [position, batch]
                ).fetchall()
            if not rows:
                return
            yield rows
            position = int(rows[-1][0])

    def read_all(self, after: int = 0, batch: int = 5000) -> Iterator[StoredEvent]:
        for rows in self._batches(after, batch):
            for r in rows:
                yield _stored(r)

    def read_raw(self, after: int | None = None, batch: int = 5000) -> Iterator[dict[str, Any]]:
        names = [c.strip() for c in COLUMNS.split(",")]
        for rows in self._batches(after, batch):
            for r in rows:
                yield dict(zip(names, r, strict=True))

    def head_position(self) -> int:
        return self.head().position

    async def head_position_async(self) -> int:
        """The log's last position, on an async connection of the running event loop (the loop serves other
        requests while PostgreSQL answers). Positions commit in order (appends hold one lock until they commit),
        so a position seen means every event up to it is visible."""
        loop = asyncio.get_running_loop()
        conn = self._async_heads.get(loop)
        if conn is None or conn.closed:
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as e:
                raise ConfigError(f"cannot connect to PostgreSQL at {redact_url(self.conninfo)}: {e}") from None
            self._async_heads[loop] = conn
        try:
            cursor = await conn.execute("SELECT MAX(position) FROM events", prepare=True)
            row = await cursor.fetchone()
        except psycopg.OperationalError:  # the connection broke (a database restart): the next call reconnects
            await conn.close()
            raise
        return int(row[0] or 0) if row else 0

    async def aclose(self) -> None:
        """Close the running loop's async connection (the app's shutdown)."""
        conn = self._async_heads.pop(asyncio.get_running_loop(), None)
        if conn is not None:
            await conn.close()

    def head(self) -> LogHead:
        with self._connection() as conn:
            row = conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1").fetchone()
        return LogHead(int(row[0]), str(row[1])) if row else LogHead()
