"""`/mlcubes/`: containers and their association requests with benchmarks."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from medperf_core.server.http import Id, PageParams, Routes, caller, idempotency_key, page_params, paginated, services
from medperf_core.server.models import (
    AssociationUpdate,
    ContainerCreate,
    ContainerUpdate,
    ModelAssociationCreate,
)
from medperf_core.server.routers.files import publish_inline
from medperf_core.server.services import Caller, ServerServices

routes = Routes(["mlcubes"])
Svc = Depends(services)
Me = Depends(caller)
Key = Depends(idempotency_key)
Pages = Depends(page_params)


@routes.get("/mlcubes/")
def list_containers(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.containers.list(who, p.limit, p.offset))


@routes.post("/mlcubes/")
def create_container(
    request: Request, body: ContainerCreate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    """Register a container. A config (or parameters) given only inline is also published as a file, so that
    MedPerf's client, which reads it from `git_mlcube_url`, can use the container too."""
    data = body.data()
    return svc.containers.create(who, data, key, published=publish_inline(request, data))


@routes.post("/mlcubes/benchmarks/")
def request_model_association(
    body: ModelAssociationCreate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.associations.request(who, "model", body.data(), key)


@routes.get("/mlcubes/{container_id}/")
def get_container(container_id: Id, svc: ServerServices = Svc, who: Caller = Me) -> dict[str, Any]:
    return svc.containers.get(who, container_id)


@routes.put("/mlcubes/{container_id}/")
def update_container(
    container_id: Id, body: ContainerUpdate, svc: ServerServices = Svc, who: Caller = Me
) -> dict[str, Any]:
    return svc.containers.update(who, container_id, body.data())


@routes.get("/mlcubes/{container_id}/benchmarks/{benchmark_id}/")
def get_model_association(
    container_id: Id, benchmark_id: Id, svc: ServerServices = Svc, who: Caller = Me
) -> dict[str, Any]:
    return svc.associations.get(who, "model", container_id, benchmark_id)


@routes.put("/mlcubes/{container_id}/benchmarks/{benchmark_id}/")
def decide_model_association(
    container_id: Id, benchmark_id: Id, body: AssociationUpdate, svc: ServerServices = Svc, who: Caller = Me,
    key: str | None = Key,
) -> dict[str, Any]:
    return svc.associations.update(who, "model", container_id, benchmark_id, body.data(), key)
