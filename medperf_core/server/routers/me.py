"""`/me/...` (the caller and what they own) and `/users/` (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from medperf_core.server.http import Id, PageParams, Routes, caller, page_params, paginated, services
from medperf_core.server.services import Caller, ServerServices

routes = Routes(["me", "users"])
Svc = Depends(services)
Me = Depends(caller)
Pages = Depends(page_params)


@routes.get("/me/")
def me(svc: ServerServices = Svc, who: Caller = Me) -> dict[str, Any]:
    return svc.users.me(who)


@routes.get("/me/benchmarks/")
def my_benchmarks(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.benchmarks.list(who, p.limit, p.offset, mine=True))


@routes.get("/me/mlcubes/")
def my_containers(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.containers.list(who, p.limit, p.offset, mine=True))


@routes.get("/me/datasets/")
def my_datasets(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.datasets.list(who, p.limit, p.offset, mine=True))


@routes.get("/me/results/")
def my_results(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.results.list(who, p.limit, p.offset, mine=True))


@routes.get("/me/datasets/associations/")
def my_dataset_associations(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.associations.mine(who, "dataset", p.limit, p.offset))


@routes.get("/me/mlcubes/associations/")
def my_model_associations(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.associations.mine(who, "model", p.limit, p.offset))


@routes.get("/users/")
def list_users(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.users.list(who, p.limit, p.offset))


@routes.get("/users/{user_id}/")
def get_user(user_id: Id, svc: ServerServices = Svc, who: Caller = Me) -> dict[str, Any]:
    return svc.users.get(who, user_id)
