"""The API's FastAPI routes, one per row of the endpoint table (medperf_core/endpoints.py).

A row without a `handler` gets a route that reads the path's ids, the body (its model derived from the row's
resource), the page asked for, the Idempotency-Key and the signed-in caller, makes the row's service call and
answers it: the value as JSON with the row's status, or a page as `{count, next, previous, results}`. A row with a
`handler` is answered by that function (FastAPI reads its parameters). Routes are grouped by their first path
segment (`datasets`, `me`, ...): `http.Routes` adds the path without its trailing slash and the 405 answers.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse

from medperf_core.endpoints import ENDPOINTS, Call, Endpoint
from medperf_core.server.http import (
    Id,
    PageParams,
    Routes,
    caller,
    idempotency_key,
    page_params,
    paginated,
    services,
)
from medperf_core.server.models import request_model
from medperf_core.server.services import Caller, ServerServices


def segment(path: str) -> str:
    """`datasets` of `/datasets/{dataset_id}/`."""
    return path.strip("/").split("/", 1)[0]


def handler_of(row: Endpoint) -> Callable[..., Any]:
    """The function a row's `handler` ("module:function") names."""
    if row.handler is None:
        raise ValueError(f"endpoint {row.name} has no handler")
    module, _, name = row.handler.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def generic_route(row: Endpoint) -> Callable[..., Any]:
    """The route function of a row without a handler; FastAPI reads what it takes from its signature."""
    service = row.service
    if service is None:
        raise ValueError(f"endpoint {row.name} has neither a service nor a handler")
    taken = [_parameter(name, Id) for name in row.path_params]
    if row.body is not None:
        taken.append(_parameter("body", request_model(row.body, row.method)))
    if row.paged:
        taken += [_parameter("request", Request), _parameter("page", PageParams, Depends(page_params))]
    taken += [_parameter("svc", ServerServices, Depends(services)), _parameter("who", Caller, Depends(caller))]
    if row.idempotent:
        taken.append(_parameter("key", str | None, Depends(idempotency_key)))

    ids = row.path_params

    def route(**given: Any) -> Any:
        page: PageParams | None = given.get("page")
        call = Call(
            ids=tuple(given[name] for name in ids),
            body=given["body"].data() if row.body is not None else {},
            key=given.get("key"),
            limit=page.limit if page is not None else None,
            offset=page.offset if page is not None else 0,
        )
        answer = service(given["svc"], given["who"], call)
        return paginated(given["request"], page, answer) if page is not None else answer

    route.__name__ = route.__qualname__ = row.name
    route.__doc__ = row.doc or None
    route.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        taken, return_annotation=Response if row.paged else dict[str, Any]
    )
    return route


def api_routers(prefix: str, *, local_auth: bool) -> list[APIRouter]:
    """Every row's route under `prefix`, one router per first path segment, in the table's order (`local_auth`:
    whether the server hands out its own tokens, which serves the `local_auth` rows)."""
    by_segment: dict[str, Routes] = {}
    for row in ENDPOINTS:
        if row.local_auth and not local_auth:
            continue
        route = handler_of(row) if row.handler else generic_route(row)
        routes = by_segment.setdefault(segment(row.path), Routes([segment(row.path)]))
        shown = {"response_class": FileResponse} if row.answer == "file" else {}
        routes.add(row.method, row.path, row.status, route, name=row.name, description=row.doc or None, **shown)
    return [routes.build(prefix) for routes in by_segment.values()]
