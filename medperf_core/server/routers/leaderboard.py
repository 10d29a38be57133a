"""`GET /benchmarks/{id}/leaderboard/`: the benchmark's pooled, ranked table as the caller may see it (the page's)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from medperf_core.server.http import Id, Routes, caller, services
from medperf_core.server.services import Caller, ServerServices
from medperf_core.server.services.leaderboard import LeaderboardService

routes = Routes(["benchmarks"])


@routes.get("/benchmarks/{benchmark_id}/leaderboard/")
def benchmark_leaderboard(
    benchmark_id: Id, svc: ServerServices = Depends(services), who: Caller = Depends(caller)
) -> dict[str, Any]:
    """One row per model (ranked by the primary metric), each metric pooled across the sites the caller may see:
    weighted by `n_cases` when every result gives it, else the plain mean (`method` says which); the per-site
    figures; and where every dataset the caller may see stands."""
    return LeaderboardService(svc).of(who, benchmark_id).to_json()
