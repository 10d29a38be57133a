"""`/datasets/`: dataset metadata and association requests with benchmarks."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from medperf_core.server.http import Id, PageParams, Routes, caller, idempotency_key, page_params, paginated, services
from medperf_core.server.models import (
    AssociationUpdate,
    DatasetAssociationCreate,
    DatasetCreate,
    DatasetUpdate,
)
from medperf_core.server.services import Caller, ServerServices

routes = Routes(["datasets"])
Svc = Depends(services)
Me = Depends(caller)
Key = Depends(idempotency_key)
Pages = Depends(page_params)


@routes.get("/datasets/")
def list_datasets(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.datasets.list(who, p.limit, p.offset))


@routes.post("/datasets/")
def create_dataset(
    body: DatasetCreate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.datasets.create(who, body.data(), key)


@routes.post("/datasets/benchmarks/")
def request_dataset_association(
    body: DatasetAssociationCreate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.associations.request(who, "dataset", body.data(), key)


@routes.get("/datasets/{dataset_id}/")
def get_dataset(dataset_id: Id, svc: ServerServices = Svc, who: Caller = Me) -> dict[str, Any]:
    return svc.datasets.get(who, dataset_id)


@routes.put("/datasets/{dataset_id}/")
def update_dataset(
    dataset_id: Id, body: DatasetUpdate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.datasets.update(who, dataset_id, body.data(), key)


@routes.get("/datasets/{dataset_id}/benchmarks/{benchmark_id}/")
def get_dataset_association(
    dataset_id: Id, benchmark_id: Id, svc: ServerServices = Svc, who: Caller = Me
) -> dict[str, Any]:
    return svc.associations.get(who, "dataset", dataset_id, benchmark_id)


@routes.put("/datasets/{dataset_id}/benchmarks/{benchmark_id}/")
def decide_dataset_association(
    dataset_id: Id, benchmark_id: Id, body: AssociationUpdate, svc: ServerServices = Svc, who: Caller = Me,
    key: str | None = Key,
) -> dict[str, Any]:
    return svc.associations.update(who, "dataset", dataset_id, benchmark_id, body.data(), key)
