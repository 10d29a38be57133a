"""The read model's kept answers: reused while the log stays where it was read, stale after any append, and
callers get copies."""

from __future__ import annotations

from pathlib import Path

from medperf_core.domain.events import UserRegistered
from medperf_core.domain.resources import USER
from medperf_core.server.storage import open_server_storage


def _register(storage, user_id: int) -> None:  # type: ignore[no-untyped-def]
    event = UserRegistered(user_id=user_id, email=f"u{user_id}@example.com", username=f"u{user_id}", first_name="",
                           last_name="", is_staff=False)
    storage.store.append(f"user-{user_id}", 0, [event], "test@example.com")


def test_kept_answers_follow_the_log(where: str | Path) -> None:
    storage = open_server_storage(where)
    other = open_server_storage(where)  # another process's view of the same database
    try:
        _register(storage, 1)
        first = other.reads.list(USER, 32, 0)
        assert first.count == 1
        first.results[0]["username"] = "changed by a caller"
        assert other.reads.list(USER, 32, 0).results[0]["username"] == "u1"  # a copy, not the kept answer
        _register(storage, 2)  # appended through the other store: the log moved
        assert [r["id"] for r in other.reads.list(USER, 32, 0).results] == [1, 2]
        assert other.reads.get(USER, 2) is not None and other.reads.find(USER, email="u2@example.com") is not None
    finally:
        storage.store.close()
        other.store.close()
