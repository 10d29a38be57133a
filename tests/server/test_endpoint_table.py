"""The endpoint table (medperf_core/endpoints.py) is the one description of the API: the app's routes, its OpenAPI
document, the client's `ServerBackend` Protocol and the `rest` and `local` backends agree with it, and no other
source file spells an endpoint's path."""

from __future__ import annotations

import inspect
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from medperf_core.backends.base import ServerBackend
from medperf_core.backends.local import LocalBackend
from medperf_core.backends.rest import RestBackend
from medperf_core.endpoints import BY_NAME, ENDPOINTS, PAGES, Endpoint
from medperf_core.server.app import API_PREFIX, create_app
from medperf_core.server.settings import ServerSettings

REPO = Path(__file__).resolve().parents[2]
# Routes of the app that are no row, each for a reason: FastAPI's own document and its page, and the health check
# a load balancer asks (neither part of MedPerf's API nor a page).
NOT_ROWS = {("GET", "/api/v0/openapi.json"), ("GET", "/api/v0/docs"), ("GET", "/docs/oauth2-redirect"),
            ("GET", "/healthz")}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(ServerSettings(data_dir=tmp_path_factory.mktemp("server")))  # --auth local: every row


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def _table_operations(rows: tuple[Endpoint, ...] = ENDPOINTS) -> set[tuple[str, str]]:
    return {(row.method, API_PREFIX + row.path) for row in rows}


def test_rows_are_named_once_and_each_method_and_path_once() -> None:
    assert len(BY_NAME) == len(ENDPOINTS)
    assert len(_table_operations()) == len(ENDPOINTS)
    for row in ENDPOINTS:
        assert row.path.startswith("/") and row.path.endswith("/"), row.name
        assert row.service is not None or row.handler is not None, f"{row.name}: nothing answers it"


def test_the_openapi_document_has_exactly_the_tables_operations(app: FastAPI) -> None:
    assert _operations(app.openapi()) == _table_operations()


def test_each_operation_is_documented_as_its_row_says(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for row in ENDPOINTS:
        operation = paths[API_PREFIX + row.path][row.method.lower()]
        assert operation["operationId"].startswith(row.name + "_"), row.name
        assert str(row.status) in operation["responses"], row.name
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert {name for where, name in parameters if where == "path"} == set(row.path_params), row.name
        assert (("header", "Idempotency-Key") in parameters) == row.idempotent, row.name
        assert {("query", "limit"), ("query", "offset")} <= parameters if row.paged else not any(
            where == "query" for where, _ in parameters), row.name
        assert bool(operation.get("security")) == (not row.public), row.name
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if row.body is not None:
            assert body == {"$ref": f"#/components/schemas/{row.body.model}"}, row.name


def test_every_route_of_the_app_is_a_row_with_and_without_its_trailing_slash(app: FastAPI) -> None:
    served: set[tuple[str, str]] = set()
    for route in [*app.router.routes, *app.state.api_routes.api_routes()]:
        if isinstance(route, APIRoute) and route.name != "_OtherMethods":
            served |= {(method, route.path) for method in route.methods}
        elif isinstance(route, Mount):
            assert route.path == "/ui/static"
    expected = set()
    for row in ENDPOINTS:
        path = API_PREFIX + row.path
        expected |= {(row.method, path), (row.method, path.rstrip("/"))}
    for row in PAGES:
        expected |= {(row.method, row.path), *([(row.method, row.path.rstrip("/"))] if row.path_params else [])}
    assert {(m, p) for m, p in served if (m, p) not in NOT_ROWS} == expected


def test_the_405_answers_are_for_fixed_paths_only(app: FastAPI) -> None:
    """A fixed path (`/datasets/benchmarks/`) answers the methods it does not take with 405 (http.Routes)."""
    guarded = {route.path for route in app.state.api_routes.api_routes()
               if isinstance(route, APIRoute) and route.name == "_OtherMethods"}
    fixed = {API_PREFIX + row.path for row in ENDPOINTS if not row.path_params}
    assert guarded == fixed | {path.rstrip("/") for path in fixed}


def _protocol_methods() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(ServerBackend).items()
            if callable(member) and not name.startswith("_")}


def test_every_protocol_method_is_a_client_row_taking_its_ids_body_and_key() -> None:
    methods = _protocol_methods()
    assert len(methods) >= 30
    for name, signature in methods.items():
        assert name in BY_NAME, f"ServerBackend.{name} is no row of the endpoint table"
        row = BY_NAME[name]
        assert row.client, name
        if row.service is None:
            continue  # the backends' own (a token, a file upload)
        taken = [p for p in signature.parameters if p != "self"]
        assert taken == [*row.path_params, *(["body"] if row.body else []), *(["key"] if row.idempotent else [])], (
            name, taken)


@pytest.mark.parametrize("backend", [RestBackend, LocalBackend])
def test_every_client_row_is_a_method_of_each_backend(backend: type) -> None:
    for row in ENDPOINTS:
        if not row.client:
            assert not hasattr(backend, row.name), row.name
            continue
        method = getattr(backend, row.name)
        if row.service is None:  # no service call to derive it from: the backend's own
            assert row.name in vars(backend), (backend.__name__, row.name)
        else:
            assert method.__name__ == row.name


def test_the_protocol_has_every_row_the_client_services_call() -> None:
    """A row the client's code calls through `backend.` is declared in the Protocol (typed for mypy)."""
    calls = subprocess.run(["git", "grep", "-h", "-o", "-E", r"backend\.[a-z_]+\(", "--", "medperf_core/services",
                            "medperf_core/cli"], capture_output=True, text=True, cwd=REPO, check=False).stdout
    called = {m.removeprefix("backend.").removesuffix("(") for m in calls.split()}
    assert called & set(BY_NAME) <= set(_protocol_methods())


def _literal(path: str) -> str:
    """A string literal holding the path, alone or after its method (`"PUT /datasets/{dataset_id}/"`), with any
    names in the places of its parameters (an f-string's)."""
    body = re.sub(r"\\\{\w+\\\}", lambda _m: r"\{[^{}]+\}", re.escape(path))
    return rf"""["'](GET |POST |PUT )?{body}["']"""


def test_each_path_is_spelled_only_in_the_table() -> None:
    """Every other source reaches a path through its row (`endpoint("create_dataset").path`, `.url(ids)`,
    `.operation(ids)`). The pages (`PAGES`) are left out: HTML links to them by URL."""
    found: dict[str, list[str]] = {}
    for row in ENDPOINTS:
        files = subprocess.run(["git", "grep", "-l", "-P", _literal(row.path), "--", ".", ":!tests"],
                               capture_output=True, text=True, cwd=REPO, check=False).stdout.split()
        found[row.name] = files
    assert {name: files for name, files in found.items() if files != ["medperf_core/endpoints.py"]} == {}


def test_the_path_search_finds_paths_written_by_hand() -> None:
    pattern = re.compile(_literal("/datasets/{dataset_id}/benchmarks/{benchmark_id}/"))
    assert pattern.search('f"/datasets/{entity}/benchmarks/{bid}/"')
    assert pattern.search('"PUT /datasets/{dataset_id}/benchmarks/{benchmark_id}/"')
    assert not pattern.search('"/datasets/{dataset_id}/benchmarks/"')
    assert re.compile(_literal("/datasets/")).search("'/datasets/'")
