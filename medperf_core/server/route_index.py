"""The API's routes found by their first path segment, instead of trying every route of the app in turn.

A router tries its routes one after the other, and FastAPI's check of one route costs a few microseconds: with
about 120 API routes (each path with and without its trailing slash, and the 405 routes of fixed paths) a request
for a late one, e.g. `POST /results/`, spent more time being routed than being answered (benchmarks/server_load.py).
`SegmentIndex` is one route of the app standing for all of them: it looks at the segment after `/api/v0/`
(`datasets`, `benchmarks`, ...) and hands the request to a router holding only that segment's routes, in the order
they were registered, so what matches, what answers 405 and what answers 404 is what it was with every route in one
list. The routes themselves are FastAPI's own, with their full paths; `api_routes()` gives them to the OpenAPI
document.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

_ROUTER = "medperf.segment_router"  # where matches() leaves the segment's router for handle()


def first_segment(path: str, prefix: str) -> str | None:
    """`datasets` of `/api/v0/datasets/1/` (prefix `/api/v0`); None outside the prefix."""
    if not path.startswith(prefix + "/"):
        return None
    return path[len(prefix) + 1:].split("/", 1)[0]


class SegmentIndex(BaseRoute):
    def __init__(self, prefix: str, routers: Iterable[APIRouter]) -> None:
        self.prefix = prefix.rstrip("/")
        self._routes: list[BaseRoute] = []
        self._by_segment: dict[str, APIRouter] = {}
        for router in routers:
            for route in router.routes:
                path = getattr(route, "path", "")
                segment = first_segment(path, self.prefix)
                if segment is None:
                    raise ValueError(f"route {path!r} is not under {self.prefix}/")
                self._by_segment.setdefault(segment, APIRouter()).routes.append(route)
                self._routes.append(route)

    def api_routes(self) -> list[BaseRoute]:
        """Every route, in registration order (the OpenAPI document lists them so)."""
        return list(self._routes)

    def routers_for(self, path: str) -> list[APIRouter]:
        """The router of the path's segment ([] for a path no API route starts like)."""
        segment = first_segment(path, self.prefix)
        found = self._by_segment.get(segment) if segment is not None else None
        return [found] if found is not None else []

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path, root = scope["path"], scope.get("root_path", "")
        routers = self.routers_for(path[len(root):] if root and path.startswith(root) else path)
        if not routers:
            return Match.NONE, {}
        return Match.FULL, {_ROUTER: routers[0]}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        router: APIRouter = scope[_ROUTER]
        await router(scope, receive, send)
