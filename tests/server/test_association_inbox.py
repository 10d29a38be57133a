"""`/me/datasets/associations/` and `/me/mlcubes/associations/`: the caller's own requests and those made to the
caller's benchmarks (the benchmark owner's inbox), as MedPerf's server lists them (server/utils/views.py)."""

from __future__ import annotations

from typing import Any

from _server_helpers import Client, make_benchmark, make_container, make_dataset


def rows(client: Client, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.ok("GET", f"{path}?limit=1000")["results"]
    return found


def test_the_benchmark_owner_sees_requests_made_to_its_benchmarks(clients: dict[str, Client]) -> None:
    admin, bo, mo, do = (clients[r] for r in ("admin", "bo", "mo", "do"))
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=admin)
    b = benchmark["id"]
    dataset = make_dataset(do, benchmark["data_preparation_mlcube"])["id"]
    do.ok("POST", "/datasets/benchmarks/", {"dataset": dataset, "benchmark": b, "approval_status": "PENDING"})
    model = make_container(mo)["id"]
    mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": b, "approval_status": "PENDING"})

    inbox = [(r["dataset"], r["approval_status"])
             for r in rows(bo, "/me/datasets/associations/") if r["benchmark"] == b]
    assert inbox == [(dataset, "PENDING")]
    inbox = [(r["model_mlcube"], r["approval_status"])
             for r in rows(bo, "/me/mlcubes/associations/") if r["benchmark"] == b]
    assert inbox == [(model, "PENDING")]
    # the requesters still see their own; a user with no part in it sees neither
    assert [r["dataset"] for r in rows(do, "/me/datasets/associations/") if r["benchmark"] == b] == [dataset]
    assert [r["model_mlcube"] for r in rows(mo, "/me/mlcubes/associations/") if r["benchmark"] == b] == [model]
    assert not [r for r in rows(mo, "/me/datasets/associations/") if r["benchmark"] == b]
    assert not [r for r in rows(do, "/me/mlcubes/associations/") if r["benchmark"] == b]
