"""An upload past the size limit is refused with 413 as soon as that is known, before it is read further."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medperf_core.server.files import too_large

# What a multipart body may hold besides the file's bytes: boundaries and part headers (a few hundred bytes).
FRAMING_BYTES = 64 * 1024


class UploadLimit:
    """POSTs to `path` whose body is longer than `max_bytes` (plus the multipart framing) get 413 at once: by their
    Content-Length before anything is read, or, sent without one (chunked), as soon as the bytes received pass it.
    The multipart parser never holds or spools more than that, whatever the client sends. The file's own size is
    checked exactly where it is stored (`FileStore.save`)."""

    def __init__(self, app: ASGIApp, *, path: str, max_bytes: int) -> None:
        self.app = app
        self.paths = {path, path.rstrip("/")}
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        allowed = self.max_bytes + FRAMING_BYTES
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > allowed:
            await self._refuse(send)
            return
        received = 0
        cut = answered = False

        async def counted() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    cut = True  # the app sees a client that went away, and its answer is replaced by the 413
                    return {"type": "http.disconnect"}
            return message

        async def unless_cut(message: Message) -> None:
            nonlocal answered
            if cut:
                return
            answered = True
            await send(message)

        try:
            await self.app(scope, counted, unless_cut)
        except Exception:
            if not cut:  # an error of the app's own: not ours to hide
                raise
        if cut and not answered:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": too_large(self.max_bytes).one_line()}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})
