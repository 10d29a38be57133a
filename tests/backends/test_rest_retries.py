"""The rest backend's retries (urllib3 `Retry`) against a real HTTP server on loopback that fails before it answers."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from medperf_core.backends.rest import RestBackend
from medperf_core.errors import ServerError
from medperf_core.profiles import Profile


class _FailsTwice(http.server.BaseHTTPRequestHandler):
    """Drops the first connection without an answer, answers 503 the second time, then 200 (201 for POST)."""

    protocol_version = "HTTP/1.1"
    calls: ClassVar[list[str]] = []
    retry_after: ClassVar[str | None] = None

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        _FailsTwice.calls.append(self.command)
        attempt = len(_FailsTwice.calls)
        if attempt == 1 and _FailsTwice.retry_after is None:
            self.close_connection = True  # a connection that dies mid-request: urllib3 sees a read error
            return
        if attempt <= 2:
            self._send(503, b'{"detail": "overloaded"}')
            return
        self._send(201 if self.command == "POST" else 200, b'{"id": 7, "name": "bench"}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 503 and _FailsTwice.retry_after is not None and len(_FailsTwice.calls) == 1:
            self.send_header("Retry-After", _FailsTwice.retry_after)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _FailsTwice.calls = []
    _FailsTwice.retry_after = None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailsTwice)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _backend(url: str) -> RestBackend:
    return RestBackend(Profile(name="r", server=url, token="t"), backoff_s=0.001)


def test_a_get_that_fails_twice_then_succeeds_returns_the_answer(server: str) -> None:
    assert _backend(server).get_benchmark(7) == {"id": 7, "name": "bench"}
    assert _FailsTwice.calls == ["GET"] * 3


def test_a_put_is_retried_like_a_get(server: str) -> None:
    assert _backend(server).update_benchmark(7, {"name": "bench"})["id"] == 7
    assert _FailsTwice.calls == ["PUT"] * 3


def test_a_post_is_not_retried(server: str) -> None:
    _FailsTwice.retry_after = "0"  # the first answer is the 503, not a dropped connection
    with pytest.raises(ServerError, match=r"503.*overloaded"):
        _backend(server).create_benchmark({"name": "bench"})
    assert _FailsTwice.calls == ["POST"]


def test_a_post_whose_connection_drops_is_not_repeated(server: str) -> None:
    with pytest.raises(ServerError, match="cannot reach the server"):
        _backend(server).create_benchmark({"name": "bench"})
    assert _FailsTwice.calls == ["POST"]


def test_retry_after_is_respected(server: str) -> None:
    _FailsTwice.retry_after = "1"
    start = time.monotonic()
    assert _backend(server).get_benchmark(7)["id"] == 7
    assert _FailsTwice.calls == ["GET"] * 3
    assert time.monotonic() - start >= 0.95  # the first 503 asked for one second; backoff alone is milliseconds


def test_retries_are_bounded(server: str) -> None:
    backend = RestBackend(Profile(name="r", server=server, token="t"), retries=1, backoff_s=0.001)
    with pytest.raises(ServerError, match=r"503.*overloaded"):
        backend.get_benchmark(7)
    assert _FailsTwice.calls == ["GET"] * 2
