"""A plain endpoint runs in the event loop's thread pool, in one trip and without FastAPI's own (anyio's); returning
JSON values, it answers with its route's status, and its annotation still documents the response."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import attrs
import fastapi.routing
import pytest
from fastapi import FastAPI

from medperf_core.server.http import Routes, answered_in_thread

routes = Routes(["things"])


ran_in: list[threading.Thread] = []  # the thread each endpoint call ran in


@routes.post("/things/")
def create_thing(body: dict[str, Any]) -> dict[str, Any]:
    ran_in.append(threading.current_thread())
    return {"id": 7, **body}


@routes.get("/things/{thing_id}/")
def get_thing(thing_id: int) -> dict[str, Any]:
    return {"id": thing_id, "name": "é"}


@attrs.frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Requests straight to the ASGI app, in this process (no sockets)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str) -> Answer:
        return asyncio.run(self._call("GET", path, b""))

    def post(self, path: str, json_body: Any) -> Answer:
        return asyncio.run(self._call("POST", path, json.dumps(json_body).encode()))

    async def _call(self, method: str, path: str, body: bytes) -> Answer:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"test"), (b"content-type", b"application/json"),
                             (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return Answer(start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:]))


@pytest.fixture
def client() -> Client:
    app = FastAPI()
    app.include_router(routes.build("/api"))
    return Client(app)


def test_a_json_endpoint_takes_one_trip_to_the_loops_thread_pool(client: Client, monkeypatch: Any) -> None:
    fastapi_trips: list[str] = []
    real = fastapi.routing.run_in_threadpool

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        fastapi_trips.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "run_in_threadpool", counted)
    ran_in.clear()
    created = client.post("/api/things/", {"name": "x"})
    assert created.status == 201 and created.json() == {"id": 7, "name": "x"}
    assert fastapi_trips == []  # neither the endpoint nor a validation of its dict goes through anyio
    assert len(ran_in) == 1 and ran_in[0] is not threading.main_thread()  # the loop's thread was never blocked
    got = client.get("/api/things/3/")
    assert got.status == 200 and got.json() == {"id": 3, "name": "é"}
    assert got.headers["content-type"] == "application/json"


def test_the_endpoint_runs_in_the_pool_the_loop_was_given(monkeypatch: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app = FastAPI()
    app.include_router(routes.build("/api"))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="given-pool")

    async def call_with_pool() -> Answer:
        asyncio.get_running_loop().set_default_executor(pool)
        return await Client(app)._call("POST", "/api/things/", b'{"name": "y"}')

    ran_in.clear()
    try:
        answer = asyncio.run(call_with_pool())
    finally:
        pool.shutdown()
    assert answer.status == 201
    assert [t.name.startswith("given-pool") for t in ran_in] == [True]


def test_an_endpoint_error_reaches_the_error_handlers_from_the_thread() -> None:
    from medperf_core.errors import NotFoundError
    from medperf_core.server.http import install_error_handlers

    failing = Routes(["failing"])

    @failing.get("/gone/")
    def gone() -> dict[str, Any]:
        raise NotFoundError("no such thing", "look elsewhere")

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(failing.build("/api"))
    answer = Client(app).get("/api/gone/")
    assert answer.status == 404 and "no such thing" in answer.json()["detail"]


def test_the_annotation_still_documents_the_response(client: Client) -> None:
    schema = client.get("/openapi.json").json()
    answer = schema["paths"]["/api/things/"]["post"]["responses"]["201"]
    assert answer["content"]["application/json"]["schema"] == {
        "type": "object", "additionalProperties": True, "title": "Response Create Thing Api Things  Post"
    }


def test_a_coroutine_endpoint_is_left_alone_and_one_that_answers_itself_keeps_its_answer() -> None:
    async def streamed() -> dict[str, Any]:
        return {}

    def untyped():  # type: ignore[no-untyped-def]
        return {"raw": True}

    assert answered_in_thread(streamed, 200) is streamed
    wrapped = answered_in_thread(untyped, 200)
    assert wrapped.__wrapped__ is untyped  # type: ignore[attr-defined]
    assert asyncio.run(wrapped()) == {"raw": True}  # left to FastAPI to serialise, as before
