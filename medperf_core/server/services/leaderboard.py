"""A benchmark's leaderboard as one caller may see it: pooled table, per-site figures, where every site stands.

Everything is gathered through the other services, so the API's visibility rules apply unchanged: the benchmark
owner and admins see every result and every associated dataset; anyone else sees the results they submitted and
their own datasets; a dataset's name and location appear only when `GET /datasets/ID/` would show them. The pooling
and ranking are the domain's (`domain/leaderboard.py`). `GET /benchmarks/ID/leaderboard/` and the page show this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from medperf_core.domain import leaderboard as lb
from medperf_core.domain.callers import Caller
from medperf_core.errors import NotFoundError
from medperf_core.store.server_read_model import Json, Page

if TYPE_CHECKING:
    from medperf_core.server.services import ServerServices

_BATCH = 500
CONTAINER_ROLES = (
    ("data_preparation_mlcube", "data preparation"),
    ("reference_model_mlcube", "reference model"),
    ("data_evaluator_mlcube", "metrics"),
)


def every(fetch: Callable[[int, int], Page]) -> list[Json]:
    """All rows of a paged list, asked in bounded pages."""
    rows: list[Json] = []
    while True:
        page = fetch(_BATCH, len(rows))
        rows.extend(page.results)
        if not page.results or len(rows) >= page.count:
            return rows


def latest_per(rows: list[Json], key: str) -> dict[int, Json]:
    """The latest association row (highest id) per entity, in the order entities first appear."""
    found: dict[int, Json] = {}
    for row in sorted(rows, key=lambda r: int(r["id"])):
        found[int(row[key])] = row
    return found


def stage(dataset: Json) -> str:
    """Where a dataset stands: operational, or how far its preparation got (its report)."""
    if dataset.get("state") == "OPERATION":
        return "operational"
    status = str((dataset.get("report") or {}).get("execution_status", ""))
    return {
        "started": "preparing (started)",
        "running": "preparing (running)",
        "finished": "prepared, not yet operational",
        "failed": "preparation failed",
        "interrupted": "preparation interrupted",
    }.get(status, "development")


@attrs.frozen(kw_only=True)
class Site:
    dataset: int
    name: str | None  # None when the caller may not see the dataset
    location: str | None
    state: str | None
    stage: str | None
    report: Json | None
    association: str  # PENDING, APPROVED, REJECTED, or "not requested"
    models_with_results: list[int]


@attrs.frozen(kw_only=True)
class Leaderboard:
    benchmark: Json
    containers: list[tuple[str, Json]]  # (role, container) for the benchmark's three and each ranked model
    scope: str  # "all" (benchmark owner, admin) or "own" (the caller's own results only)
    table: lb.Table
    sites: list[lb.SiteResult]
    site_states: list[Site]
    dataset_names: dict[int, str]  # only the datasets the caller may see
    model_names: dict[int, str]

    def to_json(self) -> Json:
        def pooled(p: lb.Pooled) -> Json:
            return {"value": p.value, "method": p.method, "sites": p.sites, "cases": p.cases}

        return {
            "benchmark": self.benchmark["id"],
            "scope": self.scope,
            "metrics": self.table.metrics,
            "primary_metric": self.table.primary_metric,
            "primary_metric_source": self.table.primary_metric_source,
            "rows": [
                {
                    "rank": r.rank,
                    "model": r.model,
                    "model_name": self.model_names.get(r.model),
                    "sites": r.sites,
                    "cases": r.cases,
                    "pooled": {k: pooled(p) for k, p in r.pooled.items()},
                }
                for r in self.table.rows
            ],
            "results": [
                {
                    "result": s.result,
                    "model": s.model,
                    "dataset": s.dataset,
                    "dataset_name": self.dataset_names.get(s.dataset),
                    "n_cases": s.n_cases,
                    "metrics": s.metrics,
                }
                for s in self.sites
            ],
            "datasets": [attrs.asdict(s) for s in self.site_states],
        }


class LeaderboardService:
    def __init__(self, svc: ServerServices) -> None:
        self.svc = svc

    def _results(self, caller: Caller, benchmark: Json) -> tuple[str, list[Json]]:
        b = int(benchmark["id"])
        if caller.is_staff or caller.id == benchmark["owner"]:
            return "all", every(lambda limit, offset: self.svc.results.of_benchmark(caller, b, limit, offset))
        visible = every(lambda limit, offset: self.svc.results.list(caller, limit, offset))
        return "own", [r for r in visible if r["benchmark"] == b]

    def _associations(self, caller: Caller, benchmark: Json) -> dict[int, Json]:
        b = int(benchmark["id"])
        if caller.is_staff or caller.id == benchmark["owner"]:
            rows = every(lambda limit, offset: self.svc.associations.of_benchmark(caller, "dataset", b, limit, offset))
        else:
            mine = every(lambda limit, offset: self.svc.associations.mine(caller, "dataset", limit, offset))
            rows = [r for r in mine if r["benchmark"] == b]
        return latest_per(rows, "dataset")

    def _dataset(self, caller: Caller, dataset_id: int) -> Json | None:
        try:
            return self.svc.datasets.get(caller, dataset_id)
        except NotFoundError:
            return None

    def _models(self, caller: Caller, benchmark: Json, results: list[Json]) -> list[int]:
        """The reference model, the approved models, then any other model with a visible result."""
        b = int(benchmark["id"])
        rows = every(lambda limit, offset: self.svc.associations.of_benchmark(caller, "model", b, limit, offset))
        approved = [m for m, row in latest_per(rows, "model_mlcube").items() if row["approval_status"] == "APPROVED"]
        ordered: dict[int, None] = {int(benchmark["reference_model_mlcube"]): None}
        for m in [*approved, *(int(r["model"]) for r in results)]:
            ordered.setdefault(m, None)
        return list(ordered)

    def _container(self, caller: Caller, container_id: int) -> Json | None:
        try:
            return self.svc.containers.get(caller, container_id)
        except NotFoundError:
            return None

    def of(self, caller: Caller, benchmark_id: int) -> Leaderboard:
        benchmark = self.svc.benchmarks.get(caller, benchmark_id)
        scope, results = self._results(caller, benchmark)
        sites = [lb.SiteResult.of(r) for r in sorted(results, key=lambda r: int(r["id"]))]
        models = self._models(caller, benchmark, results)
        table = lb.table(models, sites, str(benchmark.get("primary_metric") or ""))

        containers: list[tuple[str, Json]] = []
        model_names: dict[int, str] = {}
        for field, role in CONTAINER_ROLES:
            found = self._container(caller, int(benchmark[field]))
            if found is not None:
                containers.append((role, found))
        for m in models:
            found = self._container(caller, m)
            if found is None:
                continue
            model_names[m] = str(found["name"])
            if m != benchmark["reference_model_mlcube"]:
                containers.append(("model", found))

        associations = self._associations(caller, benchmark)
        datasets: dict[int, Json | None] = {d: self._dataset(caller, d) for d in associations}
        for s in sites:
            if s.dataset not in datasets:
                datasets[s.dataset] = self._dataset(caller, s.dataset)
        # Datasets the caller may see that use this benchmark's preparation but have not asked to join (yet).
        visible = every(lambda limit, offset: self.svc.datasets.list(caller, limit, offset))
        for d in visible:
            if d["data_preparation_mlcube"] == benchmark["data_preparation_mlcube"] and d["id"] not in datasets:
                datasets[int(d["id"])] = d

        with_results: dict[int, list[int]] = {}
        for s in sites:
            with_results.setdefault(s.dataset, [])
            if s.model not in with_results[s.dataset]:
                with_results[s.dataset].append(s.model)
        site_states = [
            _site(d, found, associations.get(d), with_results.get(d, [])) for d, found in sorted(datasets.items())
        ]
        names = {d: str(found["name"]) for d, found in datasets.items() if found is not None}
        return Leaderboard(
            benchmark=benchmark, containers=containers, scope=scope, table=table, sites=sites,
            site_states=site_states, dataset_names=names, model_names=model_names,
        )


def _site(dataset_id: int, found: Json | None, association: Json | None, models: list[int]) -> Site:
    status = "not requested" if association is None else str(association["approval_status"])
    if found is None:
        return Site(
            dataset=dataset_id, name=None, location=None, state=None, stage=None, report=None,
            association=status, models_with_results=models,
        )
    report: dict[str, Any] = dict(found.get("report") or {})
    return Site(
        dataset=dataset_id, name=str(found["name"]), location=str(found.get("location") or ""),
        state=str(found["state"]), stage=stage(found), report=report, association=status,
        models_with_results=models,
    )
