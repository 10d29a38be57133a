"""The rest and local backends: same dicts for the same flow, errors as medperf errors, retries, pagination."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from _server_helpers import CONFIG

from medperf_core.backends import get_backend
from medperf_core.backends.local import LOCAL_TOKEN
from medperf_core.backends.rest import RestBackend
from medperf_core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    UserError,
)
from medperf_core.profiles import Profile
from medperf_core.testing.server import DEMO_EMAILS, free_port, start_server

VOLATILE = {"created_at", "modified_at", "approved_at"}
# The server also publishes a config registered only inline as a file, for MedPerf's client (which reads it from
# git_mlcube_url); the local backend has no files to serve.
SERVED_FILES = {"git_mlcube_url", "mlcube_hash", "git_parameters_url", "parameters_hash"}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE | SERVED_FILES}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _flow(backend_for: Any) -> list[Any]:
    """A small tutorial flow; returns every answer (timestamps removed)."""
    bo, mo, do, admin = (backend_for(r) for r in ("bo", "mo", "do", "admin"))
    out: list[Any] = []
    ids = [bo.create_container({"name": f"c{i}", "container_config": CONFIG, "state": "OPERATION"})["id"]
           for i in range(3)]
    model = mo.create_container({"name": "model", "container_config": CONFIG, "state": "OPERATION"})
    out.append(model)
    bench = bo.create_benchmark(
        {
            "name": "bench",
            "data_preparation_mlcube": ids[0],
            "reference_model_mlcube": ids[1],
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
            "data_evaluator_mlcube": ids[2],
            "state": "OPERATION",
        }
    )
    out.append(bench)
    out.append(admin.update_benchmark(bench["id"], {"approval_status": "APPROVED"}))
    out.append(mo.request_model_association(
        {"model_mlcube": model["id"], "benchmark": bench["id"], "metadata": {}, "approval_status": "PENDING"}))
    out.append(bo.decide_model_association(model["id"], bench["id"], {"approval_status": "APPROVED"}))
    dataset = do.create_dataset(
        {
            "name": "d",
            "input_data_hash": "raw",
            "generated_uid": "raw",
            "data_preparation_mlcube": ids[0],
            "id": None,
            "owner": "",
        }
    )
    out.append(
        do.update_dataset(
            dataset["id"],
            {
                "input_data_hash": "raw",
                "generated_uid": "prep",
                "generated_metadata": {"n": 1},
                "state": "OPERATION",
            },
        )
    )
    out.append(do.request_dataset_association({
        "dataset": dataset["id"], "benchmark": bench["id"], "metadata": {"test_result": {}},
        "approval_status": "PENDING",
    }))
    out.append(bo.list_benchmark_dataset_associations(bench["id"]))
    out.append(bo.decide_dataset_association(dataset["id"], bench["id"], {"approval_status": "APPROVED"}))
    out.append(
        do.submit_result(
            {
                "benchmark": bench["id"],
                "model": model["id"],
                "dataset": dataset["id"],
                "results": {"acc": 0.9},
            }
        )
    )
    out += [
        do.me(),
        do.list_my_datasets(),
        do.list_my_results(),
        bo.list_benchmark_results(bench["id"]),
        bo.benchmark_models(bench["id"]),
        mo.list_my_model_associations(),
        do.list_my_dataset_associations(),
        mo.list_datasets(),
        bo.list_datasets(),
        do.list_benchmarks(),
        do.list_containers(),
    ]
    with pytest.raises(NotFoundError):
        mo.get_dataset(dataset["id"])
    with pytest.raises(PermissionDeniedError):
        mo.list_benchmark_results(bench["id"])
    with pytest.raises(ConflictError):
        do.submit_result({"benchmark": bench["id"], "model": model["id"], "dataset": dataset["id"]})
    with pytest.raises(UserError, match="container_config"):
        bo.create_container({"name": "bad", "container_config": {"tasks": 1}})
    return _strip(out)


@pytest.fixture()
def rest_server(tmp_path: Path) -> Iterator[Any]:
    server = start_server(tmp_path / "server", env={"MEDPERF_HOME": str(tmp_path / "server-home")})
    yield server
    server.stop()


def test_local_and_rest_give_the_same_answers(tmp_path: Path, rest_server: Any) -> None:
    def rest(role: str) -> Any:
        email = DEMO_EMAILS[role]
        return get_backend(
            Profile(name="r", server=rest_server.url, email=email, token=rest_server.token(email))
        )

    def local(role: str) -> Any:
        profile = Profile(
            name="l",
            backend="local",
            local_db=str(tmp_path / "local"),
            email=DEMO_EMAILS[role],
            token=LOCAL_TOKEN,
        )
        return get_backend(profile)

    assert _flow(rest) == _flow(local)


def test_local_backend_needs_a_login(tmp_path: Path) -> None:
    backend = get_backend(Profile(name="l", backend="local", local_db=str(tmp_path / "db")))
    with pytest.raises(AuthenticationError):
        backend.me()
    assert backend.login("testdo@example.com") == LOCAL_TOKEN


def test_rest_errors_quote_the_server(rest_server: Any) -> None:
    anonymous = RestBackend(Profile(name="r", server=rest_server.url))
    with pytest.raises(AuthenticationError, match="authentication required"):
        anonymous.me()
    with pytest.raises(UserError, match="not a demo user"):
        anonymous.login("nobody@example.com")
    token = anonymous.login("testdo@example.com")
    backend = RestBackend(Profile(name="r", server=rest_server.url, token=token))
    with pytest.raises(NotFoundError, match="benchmark 42 not found"):
        backend.get_benchmark(42)
    with pytest.raises(UserError, match=r"name: must be|name: Input should be"):
        backend.create_container({"name": 3, "container_config": CONFIG})


def test_rest_follows_next(rest_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import medperf_core.backends.rest as rest

    backend = RestBackend(
        Profile(name="r", server=rest_server.url, token=rest_server.token("testmo@example.com"))
    )
    for i in range(7):
        backend.create_container({"name": f"page-{i}", "container_config": CONFIG})
    monkeypatch.setattr(rest, "PAGE_SIZE", 2)
    assert [c["name"] for c in backend.list_containers()] == [f"page-{i}" for i in range(7)]


class _Flaky(http.server.BaseHTTPRequestHandler):
    calls: ClassVar[list[str]] = []

    def _answer(self) -> None:
        _Flaky.calls.append(self.command)
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"detail": "overloaded"}')

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def flaky() -> Iterator[str]:
    _Flaky.calls = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_5xx_is_retried_for_get_and_put_only(flaky: str) -> None:
    backend = RestBackend(Profile(name="r", server=flaky, token="t"), backoff_s=0.001)
    with pytest.raises(ServerError, match=r"503.*overloaded"):
        backend.get_benchmark(1)
    assert _Flaky.calls == ["GET"] * 4
    _Flaky.calls.clear()
    with pytest.raises(ServerError):
        backend.create_benchmark({})
    assert _Flaky.calls == ["POST"]


def test_an_unreachable_server_is_one_clear_error() -> None:
    backend = RestBackend(Profile(name="r", server=f"http://127.0.0.1:{free_port()}"), backoff_s=0.001)
    with pytest.raises(ServerError, match="cannot reach the server") as raised:
        backend.me()
    assert "\n" not in raised.value.one_line()
