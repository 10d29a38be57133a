"""`/benchmarks/`: the benchmarks, their model and dataset associations and their results."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from medperf_core.server.http import Id, PageParams, Routes, caller, idempotency_key, page_params, paginated, services
from medperf_core.server.models import AssociationPolicyUpdate, BenchmarkCreate, BenchmarkUpdate
from medperf_core.server.services import Caller, ServerServices

routes = Routes(["benchmarks"])
Svc = Depends(services)
Me = Depends(caller)
Key = Depends(idempotency_key)
Pages = Depends(page_params)


@routes.get("/benchmarks/")
def list_benchmarks(
    request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.benchmarks.list(who, p.limit, p.offset))


@routes.post("/benchmarks/")
def create_benchmark(
    body: BenchmarkCreate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.benchmarks.create(who, body.data(), key)


@routes.get("/benchmarks/{benchmark_id}/")
def get_benchmark(benchmark_id: Id, svc: ServerServices = Svc, who: Caller = Me) -> dict[str, Any]:
    return svc.benchmarks.get(who, benchmark_id)


@routes.put("/benchmarks/{benchmark_id}/")
def update_benchmark(
    benchmark_id: Id, body: BenchmarkUpdate, svc: ServerServices = Svc, who: Caller = Me, key: str | None = Key
) -> dict[str, Any]:
    return svc.benchmarks.update(who, benchmark_id, body.data(), key)


@routes.put("/benchmarks/{benchmark_id}/association_policy/")
def update_association_policy(
    benchmark_id: Id, body: AssociationPolicyUpdate, svc: ServerServices = Svc, who: Caller = Me,
    key: str | None = Key,
) -> dict[str, Any]:
    """The owner's auto-approval policy for dataset and model association requests."""
    return svc.benchmarks.update_policy(who, benchmark_id, body.data(), key)


@routes.get("/benchmarks/{benchmark_id}/models/")
def benchmark_models(
    benchmark_id: Id, request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.associations.of_benchmark(who, "model", benchmark_id, p.limit, p.offset))


@routes.get("/benchmarks/{benchmark_id}/datasets/")
def benchmark_datasets(
    benchmark_id: Id, request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.associations.of_benchmark(who, "dataset", benchmark_id, p.limit, p.offset))


@routes.get("/benchmarks/{benchmark_id}/results/")
def benchmark_results(
    benchmark_id: Id, request: Request, p: PageParams = Pages, svc: ServerServices = Svc, who: Caller = Me
) -> Response:
    return paginated(request, p, svc.results.of_benchmark(who, benchmark_id, p.limit, p.offset))
