"""The PostgreSQL recorder passes the recorder contract, plus what only a shared database can show."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from medperf_core.errors import ConcurrencyError, ConfigError
from medperf_core.store.postgres.migrations import MIGRATIONS, applied
from medperf_core.store.postgres.recorder import PostgresRecorder
from medperf_core.store.postgres.session import PostgresSession, WriteBuffer
from medperf_core.store.recorder import StreamAppend
from medperf_core.testing.group_commit import check_decided_appends, check_group_commit
from medperf_core.testing.recorder_contract import RecorderContract, append, new_event


class TestPostgresRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self, postgres_url: str) -> Iterator[PostgresRecorder]:
        rec = PostgresRecorder(postgres_url)
        yield rec
        rec.close()

    def test_appends_of_concurrent_threads_commit_together_each_on_its_own(self, recorder: PostgresRecorder) -> None:
        check_group_commit(recorder)

    def test_appends_decided_in_the_transaction_never_take_one_number_twice(self, recorder: PostgresRecorder) -> None:
        check_decided_appends(recorder)


def test_two_recorders_on_one_database_share_the_log(postgres_url: str) -> None:
    """Two processes' recorders (two pools): each sees the other's events, and a stale version conflicts."""
    first, second = PostgresRecorder(postgres_url), PostgresRecorder(postgres_url)
    try:
        stored = append(first, "s", 0, [new_event(1)])
        assert second.read_stream("s") == stored
        with pytest.raises(ConcurrencyError):
            append(second, "s", 0, [new_event(2)])
        (next_one,) = append(second, "s", 1, [new_event(3)])
        assert (next_one.position, next_one.prev_hash) == (2, stored[0].hash)
        assert first.head() == second.head()
    finally:
        first.close()
        second.close()


def test_the_unique_constraint_backs_the_version_check(postgres_url: str) -> None:
    """Even an insert that skipped the check cannot take a (stream, version) twice."""
    rec = PostgresRecorder(postgres_url)
    try:
        append(rec, "s", 0, [new_event(1)])
        with psycopg.connect(postgres_url) as conn, pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO events (position, stream, version, type, schema_version, recorded_at, actor, payload,"
                " prev_hash, hash) VALUES (2, 's', 1, 't', 1, 'x', 'a', '{}', 'p', 'h')"
            )
    finally:
        rec.close()


def test_migrations_apply_once(postgres_url: str) -> None:
    recorders = [PostgresRecorder(postgres_url) for _ in range(3)]
    try:
        assert recorders[0].migrations_applied == [name for name, _ in MIGRATIONS]
        assert [r.migrations_applied for r in recorders[1:]] == [[], []]
        with psycopg.connect(postgres_url) as conn:
            assert applied(conn) == [name for name, _ in MIGRATIONS]
    finally:
        for r in recorders:
            r.close()


def test_a_bad_url_is_one_clear_error_without_the_password(postgres_url: str) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database_here"
    with pytest.raises(ConfigError, match=r"cannot connect to PostgreSQL at .*no_such_database_here"):
        PostgresRecorder(missing)
    with pytest.raises(ConfigError) as refused:
        PostgresRecorder("postgresql://medperf:hunter2@127.0.0.1:1/medperf")  # nothing listens on port 1
    assert "hunter2" not in refused.value.one_line() and "medperf:***@127.0.0.1:1" in refused.value.one_line()


def test_several_streams_in_one_transaction_roll_back_together(postgres_url: str) -> None:
    rec = PostgresRecorder(postgres_url)
    try:
        def boom(_session: Any, _event: Any) -> None:
            raise RuntimeError("projection failed")

        with pytest.raises(RuntimeError):
            rec.append([StreamAppend("a", 0, [new_event(1)]), StreamAppend("b", 0, [new_event(2)])], boom)
        assert list(rec.read_all()) == [] and rec.head().position == 0
    finally:
        rec.close()




def test_ids_of_one_transaction_are_read_once_and_counted_on(postgres_url: str) -> None:
    """The first new id of a table in an append's transaction is read from the database, the next ones follow
    it; the next transaction reads again, and never hands out an id taken before."""
    recorder = PostgresRecorder(postgres_url)
    try:
        with recorder.transaction() as session:
            session.execute('CREATE TABLE "things" (id BIGINT PRIMARY KEY)')
            session.execute('CREATE SEQUENCE "things_ids"')
        reads: list[str] = []
        allocate = "SELECT setval('\"things_ids\"', GREATEST(nextval('\"things_ids\"'), " \
                   '(SELECT COALESCE(MAX(id), 0) + 1 FROM "things")))'

        def counted(session: Any) -> Any:
            real = session.execute

            def execute(sql: str, parameters: Any = ()) -> Any:
                reads.append(sql)
                return real(sql, parameters)

            session.execute = execute
            return session

        with recorder.transaction() as session:
            first = [counted(session).new_id("things", allocate) for _ in range(3)]
            for new in first:
                session.execute('INSERT INTO "things" (id) VALUES (?)', [new])
        assert first == [1, 2, 3] and reads.count(allocate) == 1
        with recorder.transaction() as session:
            assert counted(session).new_id("things", allocate) == 4
        assert reads.count(allocate) == 2
        with recorder.reading() as session:  # outside an append: every id is read
            assert session.new_id("things", allocate) > 4
    finally:
        recorder.close()


def test_a_sessions_writes_wait_for_its_next_read_and_go_in_one_query(postgres_url: str) -> None:
    """With a write buffer, INSERT/UPDATE/DELETE are kept (as literal SQL, quotes and `%` intact) until a read needs
    them; the read then sees them; a failing kept write raises when they are sent."""
    conn = psycopg.connect(postgres_url, autocommit=True)
    try:
        conn.execute("CREATE TEMP TABLE kept (k TEXT PRIMARY KEY, n BIGINT)")
        writes = WriteBuffer(conn)
        session = PostgresSession(conn, None, writes)
        tricky = "it's 100% {\"a\": [1]} \\ é ?"
        assert session.execute("INSERT INTO kept (k, n) VALUES (?, ?)", [tricky, 1]) is None
        assert session.execute("  update kept SET n = ? WHERE k = ?", [2, tricky]) is None
        assert conn.execute("SELECT COUNT(*) FROM kept").fetchone()[0] == 0  # nothing sent yet
        assert session.execute("SELECT k, n FROM kept").fetchall() == [(tricky, 2)]
        session.execute("INSERT INTO kept (k, n) VALUES (?, ?)", [tricky, 3])
        with pytest.raises(psycopg.errors.UniqueViolation):
            writes.flush()
    finally:
        conn.close()


def test_a_group_whose_connection_breaks_fails_whole_and_is_not_committed_twice(postgres_url: str) -> None:
    """The connection dies in the middle of a group (here: its own backend is terminated by a decision): its COMMIT
    may or may not have happened, so every append of the group fails, none is tried again, nothing is stored,
    and the next append works on a new connection."""
    from medperf_core.store.group_commit import PendingAppend

    recorder = PostgresRecorder(postgres_url)
    calls: list[str] = []
    try:
        def decide(name: str, kill: bool) -> Any:
            def run(session: Any) -> list[StreamAppend]:
                calls.append(name)
                if kill:
                    session.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                return [StreamAppend(name, 0, [new_event(1)])]
            return run

        group = [PendingAppend(decide("a", False), None), PendingAppend(decide("b", True), None)]
        recorder._commit(group)
        assert all(p.error is not None and not p.stored for p in group)
        assert calls == ["a", "b"]  # decided once each: not retried after the connection broke
        assert list(recorder.read_all()) == []
        assert [e.stream for e in append(recorder, "c", 0, [new_event(2)])] == ["c"]
    finally:
        recorder.close()


def test_a_group_reads_the_largest_ids_when_it_opens_and_takes_none_by_itself(postgres_url: str) -> None:
    """With `id_tables`, the round trip that opens a group also reads their largest ids: creates take the next
    ones without a query of their own, after rows another recorder (process) committed, and never one taken."""
    setup = PostgresRecorder(postgres_url)
    try:
        with setup.transaction() as session:
            session.execute('CREATE TABLE "things" (id BIGINT PRIMARY KEY)')
            session.execute('CREATE SEQUENCE "things_ids"')
            session.execute('INSERT INTO "things" (id) VALUES (7)')  # a row from before
    finally:
        setup.close()
    allocate = "SELECT setval('\"things_ids\"', GREATEST(nextval('\"things_ids\"'), " \
               '(SELECT COALESCE(MAX(id), 0) + 1 FROM "things")))'
    first, second = (PostgresRecorder(postgres_url, id_tables=["things"]) for _ in range(2))
    statements: list[str] = []
    try:
        def create(recorder: PostgresRecorder, stream: str, count: int) -> list[int]:
            taken: list[int] = []

            def decide(session: Any) -> list[StreamAppend]:
                real = session.execute

                def execute(sql: str, parameters: Any = ()) -> Any:
                    statements.append(sql)
                    return real(sql, parameters)

                session.execute = execute
                taken[:] = [session.new_id("things", allocate) for _ in range(count)]
                for new in taken:
                    session.execute('INSERT INTO "things" (id) VALUES (?)', [new])
                return [StreamAppend(stream, 0, [new_event(1)])]

            recorder.append(decide)
            return taken

        assert create(first, "a", 2) == [8, 9]
        assert create(second, "b", 1) == [10]  # another process's recorder sees the committed rows
        assert create(first, "c", 1) == [11]
        assert allocate not in statements  # no round trip of its own for an id
        with pytest.raises(ConcurrencyError):  # a failing group takes nothing: its ids are free again
            create(first, "a", 1)
        assert create(second, "d", 1) == [12]
    finally:
        first.close()
        second.close()


def test_a_group_reads_the_versions_it_checks_in_the_round_trip_that_opens_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The versions a group's appends expect are read with its BEGIN, and followed through the transaction: a
    stream appended twice in one group, and an empty guard, are checked without a read of their own."""
    recorder = PostgresRecorder(postgres_url)
    try:
        append(recorder, "s", 0, [new_event(1)])
        append(recorder, "t", 0, [new_event(2)])
        with monkeypatch.context() as patched:
            patched.setattr(PostgresRecorder, "_VERSION", "SELECT no_such_function(%s)")  # a read of its own fails
            recorder.append([StreamAppend("s", 1, [new_event(3)]), StreamAppend("t", 1, [])])
            recorder.append([StreamAppend("s", 2, [new_event(4)]), StreamAppend("s", 3, [new_event(5)])])
        assert [e.version for e in recorder.read_stream("s")] == [1, 2, 3, 4]
        with pytest.raises(ConcurrencyError):  # stale, in the group's own check
            recorder.append([StreamAppend("s", 3, [new_event(6)])])
        with pytest.raises(ConcurrencyError):  # a guard on a stream that moved
            recorder.append([StreamAppend("t", 0, []), StreamAppend("s", 4, [new_event(7)])])
        assert [e.version for e in recorder.read_stream("s")] == [1, 2, 3, 4]
    finally:
        recorder.close()
