"""The HTTP boundary's shared pieces: routes with and without the trailing slash, auth, pagination, error bodies."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from medperf_core.errors import (
    AuthenticationError,
    ConflictError,
    MedperfError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
    UserError,
)
from medperf_core.server.services import Caller, Page, ServerServices

log = logging.getLogger("medperf.server")
_bearer = HTTPBearer(auto_error=False, description="A token from `medperf auth login`.")


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_ANY_METHOD = (*_METHODS, "HEAD", "OPTIONS", "TRACE")  # what a fixed path's 405 route answers, but its own


class _OtherMethods:
    """The endpoint of a path that names a fixed resource (`/datasets/benchmarks/`) for the methods it does not
    take: 405 with the methods it does take, instead of reaching a route with an id in that place
    (`PUT /datasets/{dataset_id}/`) and refusing "benchmarks" as an id."""

    def __init__(self, allowed: list[str]) -> None:
        self.allowed = allowed

    async def __call__(self, request: Request) -> JSONResponse:
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405,
                            headers={"Allow": ", ".join(self.allowed)})


class Routes:
    """Registers every path twice, with and without the trailing slash (MedPerf clients ask both; no redirect).

    Paths without parameters come first, each with a route that answers the methods it does not take with 405:
    `PUT /datasets/benchmarks/` is refused as such, instead of reaching `PUT /datasets/{dataset_id}/` and being
    told that "benchmarks" is not an id."""

    def __init__(self, tags: list[str]) -> None:
        self.tags = list(tags)
        self._added: list[tuple[str, str, int, Callable[..., Any], dict[str, Any]]] = []
        self._built = False

    def build(self, prefix: str) -> APIRouter:
        """A router of these routes with `prefix` in front of every path."""
        self._built = True
        router = APIRouter(prefix=prefix, tags=list(self.tags))
        fixed = [a for a in self._added if "{" not in a[1]]
        methods: dict[str, set[str]] = {}
        for method, path, _status, _endpoint, _kw in fixed:
            methods.setdefault(path, set()).add(method)
        for method, path, status, endpoint, kw in [*fixed, *(a for a in self._added if "{" in a[1])]:
            answer = answered_in_thread(endpoint, status)
            for variant, shown in ((path, kw.get("include_in_schema", True)), (path.rstrip("/"), False)):
                router.add_api_route(variant, answer, methods=[method], status_code=status,
                                     **{**kw, "include_in_schema": shown})
        for path, allowed in methods.items():
            others = [m for m in _ANY_METHOD if m not in allowed]  # FastAPI answers no HEAD of itself
            for variant in (path, path.rstrip("/")):
                router.add_api_route(variant, _OtherMethods(sorted(allowed)), methods=others,
                                     include_in_schema=False)
        # the 405 routes come right after the fixed paths' own, before any path with an id
        routes = router.routes
        guards = routes[len(self._added) * 2:]
        router.routes = [*routes[: len(fixed) * 2], *guards, *routes[len(fixed) * 2: len(self._added) * 2]]
        return router

    def add(self, method: str, path: str, status: int, endpoint: Callable[..., Any], **kw: Any) -> None:
        """`endpoint` answers `method` on `path` (and on `path` without its trailing slash) with `status`."""
        if self._built:
            raise RuntimeError("routes are added before the router is built")
        self._added.append((method, path, status, endpoint, kw))

    def _add(self, method: str, path: str, status: int, **kw: Any) -> Callable[[Callable[..., Any]], Any]:
        def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
            self.add(method, path, status, endpoint, **kw)
            return endpoint

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._add("GET", path, 200, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._add("PUT", path, 200, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._add("POST", path, 201, **kw)


def answered_in_thread(endpoint: Callable[..., Any], status: int) -> Callable[..., Any]:
    """A plain `def` endpoint runs in the event loop's thread pool, reached with asyncio's `run_in_executor`
    (server/runtime.py: FastAPI's own trip through anyio costs about three times the CPU). If it returns JSON
    values, its JSONResponse is built in the same worker thread: left to FastAPI, the value would be validated against
    the annotation (`dict[str, Any]`) in a second trip to the pool, which costs more than the rest of a write's HTTP
    work. FastAPI still reads the endpoint's parameters and annotation (the response's documentation) through
    `__wrapped__`."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    answers_itself = inspect.signature(endpoint).return_annotation in (
        inspect.Signature.empty, "Response", "JSONResponse"
    )

    def answer(kwargs: dict[str, Any]) -> Any:
        try:
            value = endpoint(**kwargs)
        except StopIteration as e:  # asyncio cannot set it on a Future: the request would never be answered
            raise RuntimeError(f"{endpoint.__name__} raised StopIteration") from e
        return value if answers_itself or isinstance(value, Response) else JSONResponse(value, status_code=status)

    @functools.wraps(endpoint)
    async def in_thread(**kwargs: Any) -> Any:
        call = functools.partial(contextvars.copy_context().run, answer, kwargs)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    return in_thread


# The dependencies below are `async`: FastAPI runs a plain `def` dependency in its thread pool, a hop that costs
# more than the work of these (benchmarks/server_load.py). Only the first request of a user touches the database.


async def services(request: Request) -> ServerServices:
    svc: ServerServices = request.app.state.services
    return svc


async def caller(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    """The signed-in user: 401 without a valid bearer token; the user is registered on first sight."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise AuthenticationError(
            "authentication required: send Authorization: Bearer <token>",
            "log in with: medperf auth login -e EMAIL",
        )
    identity = request.app.state.auth.authenticate(creds.credentials.strip())  # CPU only: a MAC or a signature
    users = (await services(request)).users
    known = users.known(identity)
    if known is not None:
        return known
    return await run_in_threadpool(users.identify, identity)


DEFAULT_PAGE = 32  # rows of a list asked for without `limit` (MedPerf's server pages the same)
MAX_LIMIT = 1000  # the largest `limit` a list accepts; more is a 400


async def idempotency_key(
    key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="A client-generated key (e.g. a UUID). The same key again, with the same body, answers as "
        "the first request did (a POST: 201 with what it created, never a second entity; a PUT: 200 with the entity, "
        "the change never made twice); with another body, 409.",
    ),
) -> str | None:
    return key


MAX_INT = 2**63 - 1  # the largest id or offset the database holds; larger ones are refused with 400
Id = Annotated[int, Path(ge=-MAX_INT - 1, le=MAX_INT, description="An id (a 64-bit integer).")]


class PageParams:
    """`limit` and `offset` as MedPerf's clients send them; every list is paged, none answers every row."""

    def __init__(self, limit: int = DEFAULT_PAGE, offset: int = 0) -> None:
        self.limit = limit
        self.offset = offset


async def page_params(
    limit: int = Query(DEFAULT_PAGE, ge=1, le=MAX_LIMIT, description=f"rows per page (at most {MAX_LIMIT})"),
    offset: int = Query(0, ge=0, le=MAX_INT, description="rows to skip"),
) -> PageParams:
    return PageParams(limit, offset)


def paginated(request: Request, params: PageParams, page: Page) -> JSONResponse:
    """The page as MedPerf's `{count, next, previous, results}`, serialised directly (rows are plain JSON).
    `next` and `previous` repeat the request's URL with `limit` and the neighbouring page's `offset`."""
    nxt = prev = None
    if params.offset + params.limit < page.count:
        nxt = str(request.url.include_query_params(limit=params.limit, offset=params.offset + params.limit))
    if params.offset > 0:
        prev = str(
            request.url.include_query_params(limit=params.limit, offset=max(0, params.offset - params.limit))
        )
    return JSONResponse({"count": page.count, "next": nxt, "previous": prev, "results": page.results})


_STATUS: tuple[tuple[type[MedperfError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TooLargeError, 413),
    (UserError, 400),
)


async def _medperf_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, MedperfError):  # registered for MedperfError only
        return await _unexpected(_request, exc)
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
    field = getattr(exc, "field", None)
    body: dict[str, Any] = {field: [exc.one_line()]} if field else {"detail": exc.one_line()}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        return await _unexpected(_request, exc)
    body: dict[str, list[str]] = {}
    for error in exc.errors():
        where = _location(tuple(error.get("loc", ())))
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "value_error":  # our own checks (sizes): their message, without pydantic's prefix
            message = message.removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            where, message = (
                "detail",
                f"the body is not valid JSON: {error.get('ctx', {}).get('error', message)}",
            )
        body.setdefault(where, []).append(f"{where}: {message}" if where != "detail" else message)
    if list(body) == ["detail"]:
        return JSONResponse({"detail": " ".join(body["detail"])}, status_code=400)
    return JSONResponse(body, status_code=400)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse({"detail": f"internal server error ({type(exc).__name__})"}, status_code=500)




async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (404 of an unknown path, 405) as our error body; a 405 names every method the path
    takes in `Allow` (each method of a path is a route of its own, so Starlette's header names only one)."""
    from starlette.exceptions import HTTPException
    from starlette.routing import Match

    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        return await _unexpected(request, exc)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        index = getattr(request.app.state, "api_routes", None)
        routers = index.routers_for(request.url.path) if index is not None else []
        candidates = [route for r in routers for route in r.routes] or request.app.router.routes
        allowed = [
            method
            for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in candidates)
        ]
        headers["Allow"] = ", ".join(allowed)
    return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    from starlette.exceptions import HTTPException

    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(MedperfError, _medperf_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
