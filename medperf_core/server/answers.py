"""Answers kept per process: an authenticated API GET answered again from memory while the log has not moved.

`KeptAnswers` sits in front of routing: for `GET /api/v0/...` with a bearer token of a user this process has seen,
it reads the log's head position (one indexed `MAX(position)`) and, when it holds an answer to the same URL for the
same user read at that position, sends it without routing, dependencies, validation or serialisation. Otherwise
the request goes through the app as usual, and a 200 JSON answer is kept with the position read *before* it was
computed: the answer reflects at least that state, so it is reused only while the log is exactly there.

Nothing here can be stale or needed by another worker: an append by any process on any host moves the position,
which makes every kept answer of every process unusable at once (reads after an append see it: positions commit in
order). What is kept depends only on the URL and on the user (who never changes once registered), never on state
outside the log: files (`/files/`), the pages (`/ui/`) and unauthenticated requests are never kept.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medperf_core.errors import AuthenticationError

if TYPE_CHECKING:
    from medperf_core.server.services import ServerServices

PREFIX = "/api/v0/"
NEVER = ("/api/v0/files", "/api/v0/auth", "/api/v0/docs", "/api/v0/openapi")  # not the log's, or no user's
KEPT_BYTES = 64 * 1024 * 1024  # per process; all forgotten past this
LARGEST = 1024 * 1024  # a larger answer is not kept


class SharedHeadReads:
    """Concurrent requests share reads of the log's position: a request waits for a read that *starts after it
    arrived*, and one read answers every request waiting for it. So each request still sees every append that
    committed before it arrived (a client that wrote through another worker reads its write), while 50 requests
    at once cost one or two round trips to the database instead of 50."""

    def __init__(self) -> None:
        self._next: asyncio.Future[int] | None = None  # the read not started yet, that newcomers wait for
        self._busy = False
        self._task: asyncio.Task[None] | None = None  # kept: the loop holds tasks only weakly

    async def position(self, read: Callable[[], Awaitable[int]]) -> int:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if not self._busy:
                self._task = asyncio.get_running_loop().create_task(self._run(read))
        return await asyncio.shield(self._next)

    async def _run(self, read: Callable[[], Awaitable[int]]) -> None:
        self._busy = True
        try:
            while self._next is not None:
                waiting, self._next = self._next, None  # whoever comes from now on waits for the next read
                try:
                    waiting.set_result(await read())
                except Exception as e:  # every waiter of this read gets its error
                    waiting.set_exception(e)
        finally:
            self._busy = False


class KeptAnswers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._heads = SharedHeadReads()
        self._kept: dict[tuple[Any, ...], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def _key(self, scope: Scope) -> tuple[tuple[Any, ...], ServerServices] | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(PREFIX) or path.startswith(NEVER):
            return None
        token = host = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                token = credentials.strip() if scheme.lower() == "bearer" else None
            elif name == b"host":
                host = value
        if not token:
            return None
        state = scope["app"].state
        try:
            identity = state.auth.authenticate(token)
        except AuthenticationError:
            return None  # the app answers 401
        svc: ServerServices = state.services
        caller = svc.users.known(identity)
        if caller is None:  # the first request of a user registers them: through the app
            return None
        return (caller.id, caller.is_staff, scope["scheme"], host, scope.get("root_path", ""), path,
                scope["query_string"]), svc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._key(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        key, svc = found
        position = await self._heads.position(svc.reads.head_position_async)
        kept = self._kept.get(key)
        if kept is not None and kept[0] == position:
            await send({"type": "http.response.start", "status": 200, "headers": kept[1]})
            await send({"type": "http.response.body", "body": kept[2]})
            return
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None and size <= LARGEST:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if not message.get("more_body", False):
                    self._store(key, position, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keep)

    def _store(self, key: tuple[Any, ...], position: int, start: Message, body: bytes) -> None:
        headers = list(start.get("headers", []))
        json = any(n == b"content-type" and v.startswith(b"application/json") for n, v in headers)
        if start["status"] != 200 or not json or len(body) > LARGEST:
            return
        with self._lock:
            if self._bytes + len(body) > KEPT_BYTES:
                self._kept.clear()
                self._bytes = 0
            old = self._kept.get(key)
            self._bytes += len(body) - (len(old[2]) if old else 0)
            self._kept[key] = (position, headers, body)
