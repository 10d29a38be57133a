"""Group commit: appends of one process's threads that arrive while another commits share the next transaction.

One thread at a time leads: it takes every waiting append (at most `limit`), hands them to the recorder's
`commit(group)` (one transaction, in which a failing append fails alone) and wakes the group's threads once that
returns, and the next leader.
Every thread returns only after the COMMIT that holds its append, so an append is exactly as durable as alone,
while one fsync (and one turn of the database's write lock) serves the whole group. Waiting appends are taken in
arrival order, so a request never waits behind more than `limit` later ones: the tail stays close to the middle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import attrs

from medperf_core.store.recorder import DecideAppends, StreamAppend
from medperf_core.store.records import StoredEvent

S = TypeVar("S")

GROUP_MAX = 64  # appends committed in one transaction at most


@attrs.define
class PendingAppend(Generic[S]):
    """One thread's append waiting for its group's commit; `commit` sets `stored` or `error`."""

    appends: Sequence[StreamAppend] | DecideAppends
    apply: Callable[[S, StoredEvent], None] | None
    stored: list[StoredEvent] = attrs.field(factory=list)
    error: BaseException | None = None
    leads: bool = False  # handed the lead: commits the next group, its own append first
    woken: threading.Event = attrs.field(factory=threading.Event)  # finished, or handed the lead

    def fail(self, error: BaseException) -> None:
        """Nothing of this append is stored: it raises `error` in its own thread."""
        self.error, self.stored = error, []


class GroupCommit(Generic[S]):
    """Serialises a recorder's appends into groups; `commit(group)` must set each one's outcome and never raise.

    Each waiting thread sleeps on an event of its own: a commit wakes the threads of its group and, if appends
    arrived meanwhile, the first of them to lead the next group; no other thread wakes to find it must wait on."""

    def __init__(self, commit: Callable[[list[PendingAppend[S]]], None], limit: int = GROUP_MAX) -> None:
        self._commit = commit
        self._limit = limit
        self._lock = threading.Lock()  # guards _waiting and _leading
        self._waiting: list[PendingAppend[S]] = []  # in arrival order; the leader's own append first
        self._leading = False
        self.commits = 0  # groups committed (or failed) so far

    def append(
        self, appends: Sequence[StreamAppend] | DecideAppends, apply: Callable[[S, StoredEvent], None] | None
    ) -> list[StoredEvent]:
        pending: PendingAppend[S] = PendingAppend(appends, apply)
        with self._lock:
            self._waiting.append(pending)
            pending.leads = not self._leading
            self._leading = True
        if not pending.leads:
            pending.woken.wait()
        if pending.leads:
            self._lead()
        if pending.error is not None:
            raise pending.error
        return pending.stored

    def _lead(self) -> None:
        """Commit the first waiting appends (this thread's own among them), wake their threads, then hand the lead
        to the first append that arrived meanwhile, or give it up."""
        with self._lock:
            group, self._waiting = self._waiting[: self._limit], self._waiting[self._limit:]
        try:
            self._run(group)
        finally:
            with self._lock:
                following = self._waiting[0] if self._waiting else None
                if following is None:
                    self._leading = False
                else:
                    following.leads = True
            if following is not None:  # first: the next commit's round trips overlap this group's answers
                following.woken.set()
            for pending in group:
                pending.woken.set()

    def _run(self, group: list[PendingAppend[S]]) -> None:
        try:
            self._commit(group)
        except BaseException as e:  # a commit that broke its promise: nobody of the group is left waiting
            for pending in group:
                if pending.error is None:
                    pending.fail(e)
            if not isinstance(e, Exception):
                raise
        finally:
            self.commits += 1
