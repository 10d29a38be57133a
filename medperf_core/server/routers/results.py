"""`/results/`: benchmark results, visible to their submitter, the benchmark owner and admins."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from medperf_core.server.http import Id, PageParams, Routes, caller, idempotency_key, page_params, paginated, services
from medperf_core.server.models import ResultCreate
from medperf_core.server.services import Caller, ServerServices

routes = Routes(["results"])
Svc = Depends(services)
Me = Depends(caller)
Key = Depends(idempotency_key)
Pages = Depends(page_params)


@routes.get("/results/")
def list_results(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.results.list(who, p.limit, p.offset))


@routes.post("/results/")
def submit_result(
    body: ResultCreate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.results.submit(who, body.data(), key)


@routes.get("/results/{result_id}/")
def get_result(result_id: Id, svc: ServerServices = Svc, who: Caller = Me) -> dict[str, Any]:
    return svc.results.get(who, result_id)
