"""The segment index routes every request as trying every API route in turn would: same route, same 405, same 404."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match

from medperf_core.endpoints import ENDPOINTS
from medperf_core.server.app import API_PREFIX, create_app
from medperf_core.server.route_index import SegmentIndex, first_segment
from medperf_core.server.routes import segment
from medperf_core.server.settings import ServerSettings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SegmentIndex:
    app = create_app(ServerSettings(data_dir=tmp_path_factory.mktemp("server")))
    found: SegmentIndex = app.state.api_routes
    return found


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _linear(routes: list, method: str, path: str) -> tuple[object, Match]:
    """What one list of every route answers: the first full match, else the first partial one (405), else none."""
    partial = None
    for route in routes:
        match, _ = route.matches(_scope(method, path))
        if match is Match.FULL:
            return route, match
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (partial, Match.PARTIAL) if partial is not None else (None, Match.NONE)


def _indexed(index: SegmentIndex, method: str, path: str) -> tuple[object, Match]:
    routers = index.routers_for(path)
    return _linear(routers[0].routes, method, path) if routers else (None, Match.NONE)


def _paths(index: SegmentIndex) -> list[str]:
    """Every route's path with ids filled in, and words in the places of ids (`/datasets/benchmarks/`)."""
    paths = set()
    for route in index.api_routes():
        template = getattr(route, "path", "")
        for value in ("1", "benchmarks", "x"):
            paths.add(re.sub(r"\{[^}]+\}", value, template))
    return sorted(paths | {f"{API_PREFIX}/unknown/", f"{API_PREFIX}/datasets/1/2/3/", f"{API_PREFIX}/"})


def test_every_api_route_is_under_a_segment_of_its_own_router(index: SegmentIndex) -> None:
    routes = index.api_routes()
    assert len(routes) > 50
    for route in routes:
        path = getattr(route, "path", "")
        assert route in index.routers_for(path)[0].routes, path
        assert first_segment(path, API_PREFIX) in {segment(row.path) for row in ENDPOINTS}


def test_the_index_finds_what_the_whole_list_finds_for_every_method_and_path(index: SegmentIndex) -> None:
    checked = 0
    for path in _paths(index):
        for method in METHODS:
            assert _indexed(index, method, path) == _linear(index.api_routes(), method, path), (method, path)
            checked += 1
    assert checked > 500


def test_paths_outside_the_api_are_not_the_indexs(index: SegmentIndex) -> None:
    assert index.matches(_scope("GET", "/healthz"))[0] is Match.NONE
    assert index.matches(_scope("GET", f"{API_PREFIX}/nothing-here/"))[0] is Match.NONE
    assert index.matches(_scope("GET", f"{API_PREFIX}/datasets/"))[0] is Match.FULL
    assert index.matches({"type": "websocket", "path": f"{API_PREFIX}/datasets/"})[0] is Match.NONE


def test_a_route_outside_the_prefix_is_refused_when_the_index_is_built() -> None:
    from fastapi import APIRouter

    router = APIRouter()
    router.add_api_route("/elsewhere/", lambda: None)
    with pytest.raises(ValueError, match="not under /api/v0/"):
        SegmentIndex(API_PREFIX, [router])
