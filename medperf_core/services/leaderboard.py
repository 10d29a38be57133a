"""A benchmark's submitted results as `medperf benchmark view ID --results` shows them: pooled and ranked by the
benchmark's primary metric (the domain's `leaderboard.table`, the same figures as the page and the API), with
models, datasets and submitters by name or email where the caller may know them.

The benchmark's owner and admins see every result; anyone else sees the results they submitted themselves
(`scope` says which), as on the page.
"""

from __future__ import annotations

from typing import Any

from medperf_core.domain import leaderboard as lb
from medperf_core.errors import NotFoundError, PermissionDeniedError
from medperf_core.services.client import Client

Json = dict[str, Any]


def _name_of(fetch: Any, entity_id: int) -> str | None:
    """The entity's name, or None when the caller may not see it."""
    try:
        return str(fetch(entity_id)["name"])
    except (NotFoundError, PermissionDeniedError):
        return None


def benchmark_results(client: Client, benchmark_id: int) -> Json:
    """The ranked table and every result behind it, as far as the caller may see them (see the module)."""
    backend = client.backend
    benchmark = backend.get_benchmark(benchmark_id)
    me = client.me
    try:
        results, scope = backend.list_benchmark_results(benchmark_id), "all"
    except PermissionDeniedError:  # not its owner: the caller's own results, as the page shows them
        results = [r for r in backend.list_my_results() if int(r["benchmark"]) == benchmark_id]
        scope = "own"
    sites = [lb.SiteResult.of(r) for r in sorted(results, key=lambda r: int(r["id"]))]
    models = list(dict.fromkeys([int(benchmark["reference_model_mlcube"]), *(s.model for s in sites)]))
    table = lb.table(models if scope == "all" else [s.model for s in sites], sites,
                     str(benchmark.get("primary_metric") or ""))
    model_names = {m: _name_of(backend.get_container, m) for m in models}
    dataset_names = {d: _name_of(backend.get_dataset, d) for d in {s.dataset for s in sites}}
    emails = {int(me["id"]): str(me["email"])} if me.get("email") else {}
    owners = {int(r["id"]): int(r["owner"]) for r in results if r.get("owner") is not None}
    return {
        "benchmark": int(benchmark["id"]),
        "name": benchmark.get("name"),
        "scope": scope,
        "metrics": table.metrics,
        "primary_metric": table.primary_metric,
        "primary_metric_source": table.primary_metric_source,
        "rows": [
            {"rank": r.rank, "model": r.model, "model_name": model_names.get(r.model), "sites": r.sites,
             "cases": r.cases, "pooled": {k: {"value": p.value, "method": p.method} for k, p in r.pooled.items()}}
            for r in table.rows
        ],
        "results": [
            {"result": s.result, "model": s.model, "model_name": model_names.get(s.model), "dataset": s.dataset,
             "dataset_name": dataset_names.get(s.dataset), "owner": owners.get(s.result),
             "owner_email": emails.get(owners.get(s.result, -1)), "n_cases": s.n_cases, "metrics": s.metrics}
            for s in sites
        ],
    }
