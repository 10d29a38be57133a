"""The SQLite recorder: one `events` table, optimistic concurrency on (stream, version), a hash chain.

The connection is shared by the threads of one process and serialised by a lock that never leaves this module;
appends of those threads are committed in groups (`group_commit.py`: one fsync for many). Between processes,
`BEGIN IMMEDIATE` and the version check inside the transaction keep appends correct, and writers queue on an
advisory lock on a side file (`<log>-lock`, flock) before they begin: the kernel wakes the next one the instant
the lock is free, where SQLite's own busy handler would poll with sleeps of up to 100 ms (the tail of a server
with several worker processes).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from medperf_core.errors import ConcurrencyError, ConflictError, IntegrityError
from medperf_core.store.canonical import GENESIS_HASH
from medperf_core.store.group_commit import GroupCommit, PendingAppend
from medperf_core.store.recorder import COLUMNS, DecideAppends, LogHead, StreamAppend, chained_rows
from medperf_core.store.records import StoredEvent
from medperf_core.store.sqlite.migrations import event_log
from medperf_core.store.verify import tail_problem

LOCK_SUFFIX = "-lock"  # the side file writers of every process queue on


def _row_to_stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        position=row[0], stream=row[1], version=row[2], type=row[3], schema_version=row[4],
        recorded_at=row[5], actor=row[6], payload=json.loads(row[7]), prev_hash=row[8], hash=row[9],
    )


def _decode_leniently(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def connect(path: Path | None) -> Database:
    """A durable WAL connection usable from the threads of one process (None: in memory)."""
    if path is None:
        return Database(sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None))
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # durable: a committed event survives a power cut
    conn.execute("PRAGMA foreign_keys=ON")
    return Database(conn)


def version_conflict(stream: str, current: int, expected: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"{stream} changed meanwhile: it is at version {current}, the decision was made at version {expected}",
        "someone else changed it at the same time: run the command again to decide on the new state",
    )


class SQLiteRecorder:
    """Inserts and selects stored events; `apply` updates projections in the same transaction."""

    decides_in_transaction = True  # `append` also takes a function of the session that decides the appends

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.db = connect(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None  # the thread inside a transaction
        self._writer_lock = _WriterLock(path)
        self._groups: GroupCommit[Database] = GroupCommit(self._commit)
        self._readers = threading.local()  # a read-only connection per thread, for head_position()
        self._opened: list[sqlite3.Connection] = []
        with self._transaction("BEGIN IMMEDIATE") as db:  # two processes opening a new file at once
            event_log.apply(db)

    def close(self) -> None:
        self.db.conn.close()
        self._writer_lock.close()
        for reader in self._opened:
            reader.close()
        self._opened.clear()

    # --- transactions ---------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Database]:
        with self._lock:
            if self._depth:  # nested in this thread's own transaction: join it
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            conn = self.db.conn
            with self._writer_lock.held(begin != "BEGIN"):
                conn.execute(begin)
                self._depth, self._owner = 1, threading.get_ident()
                try:
                    yield self.db
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
                finally:
                    self._depth, self._owner = 0, None

    def transaction(self) -> Any:
        return self._transaction("BEGIN IMMEDIATE")

    def reading(self) -> Any:
        return self._transaction("BEGIN")

    def scratch(self) -> Database:
        return connect(None)

    # --- writing --------------------------------------------------------------------------------------------

    def append(
        self,
        appends: Sequence[StreamAppend] | DecideAppends,
        apply: Callable[[Database, StoredEvent], None] | None = None,
    ) -> list[StoredEvent]:
        """Appends of this process's threads that arrive while one commits share the next transaction, each in a
        savepoint of its own (one that fails, on its version check or on a unique column, is rolled back alone and
        raises in its own thread); each returns after the COMMIT holding it. `appends` may be a function of the
        session, called inside the transaction (after the appends of the group before it)."""
        if self._in_own_transaction():  # a rebuild appending inside its transaction: join it
            with self._transaction("BEGIN IMMEDIATE") as db:
                self._check_untouched(db.conn)
                return self._append_one(db, appends, apply)
        return self._groups.append(appends, apply)

    @property
    def commits(self) -> int:
        """Transactions of append() so far, a group counted once."""
        return self._groups.commits

    def _in_own_transaction(self) -> bool:
        return self._owner == threading.get_ident()

    def _commit(self, group: list[PendingAppend[Database]]) -> None:
        """One transaction for the group; sets each one's events or error, never raises."""
        try:
            with self._transaction("BEGIN IMMEDIATE") as db:
                self._check_untouched(db.conn)  # once per transaction: the group's own appends are not checked
                if len(group) == 1:
                    group[0].stored = self._append_one(db, group[0].appends, group[0].apply)
                    return
                for pending in group:
                    db.conn.execute("SAVEPOINT one_append")
                    try:
                        pending.stored = self._append_one(db, pending.appends, pending.apply)
                    except Exception as e:  # rolled back to the savepoint: the others go on
                        db.conn.execute("ROLLBACK TO one_append")
                        pending.fail(e)
                    finally:
                        db.conn.execute("RELEASE one_append")
        except Exception as e:  # the transaction failed (BEGIN, COMMIT, the disk): nothing of it is stored
            for pending in group:
                if pending.error is None:
                    pending.fail(e)

    def _append_one(
        self, db: Database, appends: Sequence[StreamAppend] | DecideAppends,
        apply: Callable[[Database, StoredEvent], None] | None,
    ) -> list[StoredEvent]:
        if callable(appends):
            appends = appends(db)
        stored: list[StoredEvent] = []
        for batch in appends:
            stored += self._insert(db.conn, batch)
        if stored:
            db.conn.execute("UPDATE log_guard SET head_position = ?, head_hash = ? WHERE id = 1",
                            (stored[-1].position, stored[-1].hash))
        if apply is not None:
            try:
                for event in stored:
                    apply(db, event)
            except sqlite3.IntegrityError as e:  # a unique column of a read model, e.g. a name
                raise ConflictError(f"this conflicts with an existing entry ({e})", "choose another value") from e
        return stored

    def _insert(self, conn: sqlite3.Connection, batch: StreamAppend) -> list[StoredEvent]:
        stream, expected_version = batch.stream, batch.expected_version
        current = self._stream_version(conn, stream)
        if current != expected_version:
            raise version_conflict(stream, current, expected_version)
        last = conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1").fetchone()
        position, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
        stored, rows = chained_rows(batch, position, prev_hash)
        try:
            conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        except sqlite3.IntegrityError as e:  # (stream, version) or position taken: the stream moved meanwhile
            raise version_conflict(stream, self._stream_version(conn, stream), expected_version) from e
        return stored

    def check_untouched(self) -> None:
        """`_check_untouched` outside an append: a client checks its log once before a command does anything
        (a command may tell the server something before its first append)."""
        with self._lock:
            self._check_untouched(self.db.conn)

    def _check_untouched(self, conn: sqlite3.Connection) -> None:
        """IntegrityError unless the log is as this recorder left it: no event updated or deleted by hand (the
        guard's triggers), its last event the head it last wrote, and that event's hash and link to the one before
        it right. A few point reads, not a whole verify (`medperf events verify` walks the chain)."""
        try:
            guard = conn.execute("SELECT head_position, head_hash, altered_position FROM log_guard").fetchone()
        except sqlite3.OperationalError:
            guard = None
        if guard is None:
            raise self._altered("its guard record (table log_guard) was removed")
        head_position, head_hash, altered = guard
        if altered is not None:
            raise self._altered(f"event {altered} was changed or deleted")
        tail = [dict(zip(COLUMNS.replace(" ", "").split(","), row, strict=True)) for row in conn.execute(
            f"SELECT {COLUMNS} FROM events ORDER BY position DESC LIMIT 2").fetchall()]
        last = tail[0] if tail else {"position": 0, "hash": GENESIS_HASH}
        if (last["position"], last["hash"]) != (head_position, head_hash):
            raise self._altered(f"its last event is position {last['position']}, but it last wrote {head_position}")
        if tail:
            before = tail[1] if len(tail) > 1 else {"position": 0, "hash": GENESIS_HASH}
            problem = tail_problem(before, last)
            if problem:
                raise self._altered(f"event {last['position']}: {problem}")

    def _altered(self, what: str) -> IntegrityError:
        return IntegrityError(
            f"the event log {self.path} was altered by hand ({what}); nothing was written to it",
            "see where: medperf events verify; then restore the log from a backup (a client's log may also be moved "
            "aside: medperf sync then starts a new one from what the server knows)",
        )

    @staticmethod
    def _stream_version(conn: sqlite3.Connection, stream: str) -> int:
        row = conn.execute("SELECT MAX(version) FROM events WHERE stream = ?", (stream,)).fetchone()
        return int(row[0] or 0)

    # --- reading --------------------------------------------------------------------------------------------

    def stream_version(self, stream: str) -> int:
        """The stream's version (0 when it has none) from the (stream, version) index, without its events."""
        with self._lock:
            return self._stream_version(self.db.conn, stream)

    def read_stream(self, stream: str) -> list[StoredEvent]:
        with self._lock:
            rows = self.db.conn.execute(
                f"SELECT {COLUMNS} FROM events WHERE stream = ? ORDER BY version", (stream,)
            ).fetchall()
        return [_row_to_stored(r) for r in rows]

    def read_all(self, after: int = 0, batch: int = 5000) -> Iterator[StoredEvent]:
        position = after
        while True:
            with self._lock:
                rows = self.db.conn.execute(
                    f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?", (position, batch)
                ).fetchall()
            if not rows:
                return
            for r in rows:
                yield _row_to_stored(r)
            position = rows[-1][0]

    def read_raw(self, after: int | None = None, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Rows as stored; text that is not valid UTF-8 (a tampered byte) decodes with replacement characters,
        so that verification names the row's position instead of crashing (the replaced text cannot hash right)."""
        position = after
        conn = self.db.conn
        while True:
            with self._lock:
                text_factory = conn.text_factory
                conn.text_factory = _decode_leniently
                try:
                    cursor = conn.execute(
                        f"SELECT {COLUMNS} FROM events WHERE (? IS NULL OR position > ?) ORDER BY position LIMIT ?",
                        (position, position, batch),
                    )
                    names = [d[0] for d in cursor.description]
                    rows = cursor.fetchall()
                finally:
                    conn.text_factory = text_factory
            if not rows:
                return
            for r in rows:
                yield dict(zip(names, r, strict=True))
            position = rows[-1][0]

    def head_position(self) -> int:
        """The log's last position, read on this thread's own connection: never waits for this process's lock
        (a writer's commit and fsync), since a WAL reader waits for no writer. It sees every committed append."""
        if self.path is None:
            return self.head().position
        reader = getattr(self._readers, "conn", None)
        if reader is None:
            reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                     isolation_level=None, timeout=30.0)
            self._readers.conn = reader
            with self._lock:
                self._opened.append(reader)
        row = reader.execute("SELECT MAX(position) FROM events").fetchone()
        return int(row[0] or 0)

    def head(self) -> LogHead:
        with self._lock:
            row = self.db.conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1").fetchone()
        return LogHead(int(row[0]), str(row[1])) if row else LogHead()


class _WriterLock:
    """An exclusive flock on `<log>-lock`, held around every write transaction of this recorder (none in memory).

    Threads of one process are already serialised by the recorder's own lock; the flock orders processes."""

    def __init__(self, path: Path | None) -> None:
        self._path = None if path is None else path.with_name(path.name + LOCK_SUFFIX)
        self._fd: int | None = None

    @contextmanager
    def held(self, writing: bool) -> Iterator[None]:
        if self._path is None or not writing:
            yield
            return
        if self._fd is None:  # opened on the first write (reading a log never creates it); read-only is enough
            self._fd = os.open(str(self._path), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
