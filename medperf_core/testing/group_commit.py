"""Checks of what the built-in recorders add to the contract: group commit of concurrent appends, and appends
decided inside the transaction. Both take a recorder whose sessions run SQL with `?` placeholders."""

from __future__ import annotations

from typing import Any

from medperf_core.store.recorder import StreamAppend
from medperf_core.store.verify import verify_rows
from medperf_core.testing.races import race_outcomes
from medperf_core.testing.recorder_contract import append, new_event

THREADS = 24


def _create_table(recorder: Any, name: str) -> None:
    with recorder.transaction() as session:
        session.execute(f"CREATE TABLE {name} (k TEXT PRIMARY KEY)")


def _count(recorder: Any, table: str) -> int:
    with recorder.reading() as session:
        return int(session.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def check_group_commit(recorder: Any) -> None:
    """24 threads append at once: 14 on streams of their own (two of them with the same unique key in a
    projection), 8 on one stream at the same version. Every own-stream append is stored except one of the two that
    share a key (ConflictError, nothing of it stored), exactly one of the eight wins and seven conflict; positions
    are gapless, the chain is whole, and fewer transactions than appends committed."""
    _create_table(recorder, "keyed")

    def apply(session: Any, event: Any) -> None:
        session.execute("INSERT INTO keyed (k) VALUES (?)", [event.payload["k"]])

    def write(i: int) -> None:
        stream, key = (f"own-{i}", "dup" if i in (0, 1) else f"k{i}") if i < 16 else ("shared", f"k{i}")
        append(recorder, stream, 0, [new_event(i, k=key)], apply)

    commits_before = recorder.commits
    outcomes = race_outcomes(write, THREADS)
    assert sorted(outcomes[i] for i in (0, 1)) == ["key taken", "ok"], outcomes
    assert all(outcomes[i] == "ok" for i in range(2, 16)), outcomes
    assert sorted(outcomes[i] for i in range(16, 24)) == ["conflict"] * 7 + ["ok"], outcomes
    stored = list(recorder.read_all())
    assert [e.position for e in stored] == list(range(1, 17))
    assert {e.stream for e in stored} == {f"own-{i}" for i in range(16) if outcomes[i] == "ok"} | {"shared"}
    assert verify_rows(recorder.read_raw()).ok
    assert _count(recorder, "keyed") == 16
    assert recorder.commits - commits_before < THREADS, "the appends shared commits"


def check_decided_appends(recorder: Any) -> None:
    """24 threads create at once, each under `MAX(n) + 1` of a projection table read inside its own append's
    transaction (as the server allocates ids): none conflicts, the 24 numbers are 1..24, and each event names the
    number its stream was created under."""
    with recorder.transaction() as session:
        session.execute("CREATE TABLE numbered (n BIGINT PRIMARY KEY)")

    def apply(session: Any, event: Any) -> None:
        session.execute("INSERT INTO numbered (n) VALUES (?)", [event.payload["n"]])

    def create(_i: int) -> None:
        def decide(session: Any) -> list[StreamAppend]:
            n = int(session.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM numbered").fetchone()[0])
            return [StreamAppend(f"thing-{n}", 0, [new_event(n)])]

        recorder.append(decide, apply)

    outcomes = race_outcomes(create, THREADS)
    assert set(outcomes.values()) == {"ok"}, outcomes
    stored = list(recorder.read_all())
    assert sorted(e.payload["n"] for e in stored) == list(range(1, THREADS + 1))
    assert all(e.stream == f"thing-{e.payload['n']}" for e in stored)
    assert verify_rows(recorder.read_raw()).ok
