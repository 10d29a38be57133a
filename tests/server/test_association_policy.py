"""The benchmark owner's association policy, and the preconditions of joining a benchmark, against the real server."""

from __future__ import annotations

from typing import Any

import pytest
from _server_helpers import Client, make_benchmark, make_container, make_dataset

from medperf_core.server.storage import open_server_storage
from medperf_core.testing.server import ServerProcess

POLICY = "/benchmarks/{}/association_policy/"


def _events(server: ServerProcess, stream: str) -> list[dict[str, Any]]:
    with open_server_storage(server.where, audit=True).store as store:
        return [{"type": e.type, **e.payload} for e in store.read_all() if e.stream == stream]


@pytest.fixture
def bench(clients: dict[str, Client]) -> dict[str, Any]:
    return make_benchmark(clients["bo"], state="OPERATION", approved_by=clients["admin"])


@pytest.mark.parametrize(
    ("role", "code"), [("admin", 403), ("bo", 200), ("mo", 403), ("do", 403), ("anon", 401)]
)
def test_only_the_benchmark_owner_sets_the_policy(
    clients: dict[str, Client], bench: dict[str, Any], role: str, code: int
) -> None:
    response = clients[role].put(POLICY.format(bench["id"]), {"model_auto_approval_mode": "ALWAYS"})
    assert response.status_code == code, response.text
    after = clients["bo"].ok("GET", f"/benchmarks/{bench['id']}/")
    assert after["model_auto_approval_mode"] == ("ALWAYS" if code == 200 else "NEVER")
    assert after["association_policy_version"] == (1 if code == 200 else 0)


def test_a_policy_approves_matching_requests_and_records_its_version(
    server: ServerProcess, clients: dict[str, Client], bench: dict[str, Any]
) -> None:
    bo, mo, do = clients["bo"], clients["mo"], clients["do"]
    b = bench["id"]
    pending = make_container(mo)["id"]
    assert mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": pending, "benchmark": b})["approval_status"] == (
        "PENDING"
    )
    bo.ok("PUT", POLICY.format(b), {"model_auto_approval_mode": "ALWAYS",
                                    "dataset_auto_approval_mode": "ALLOWLIST",
                                    "dataset_auto_approval_allow_list": ["TestDO@example.com"]})
    model = make_container(mo)["id"]
    row = mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": b})
    assert row["approval_status"] == "APPROVED" and row["approved_at"]
    assert mo.ok("GET", f"/mlcubes/{pending}/benchmarks/{b}/")["approval_status"] == "PENDING"  # not retroactive
    dataset = make_dataset(do, bench["data_preparation_mlcube"])["id"]
    assert do.ok("POST", "/datasets/benchmarks/", {"dataset": dataset, "benchmark": b})["approval_status"] == (
        "APPROVED"
    )
    decided = _events(server, f"association-model-{model}-benchmark-{b}")
    assert [e["type"] for e in decided] == ["association.requested", "association.approved_by_policy"]
    assert decided[1]["policy_version"] == 1 and decided[1]["mode"] == "ALWAYS"

    bo.ok("PUT", POLICY.format(b), {"dataset_auto_approval_allow_list": ["someone@example.org"]})
    assert bo.ok("GET", f"/benchmarks/{b}/")["association_policy_version"] == 2
    other = make_dataset(do, bench["data_preparation_mlcube"])["id"]
    assert do.ok("POST", "/datasets/benchmarks/", {"dataset": other, "benchmark": b})["approval_status"] == "PENDING"
    changes = [e for e in _events(server, f"benchmark-{b}") if e["type"] == "benchmark.association_policy_changed"]
    assert [(e["policy_version"], e["dataset_allow_list"]) for e in changes] == [
        (1, ["TestDO@example.com"]), (2, ["someone@example.org"])
    ]


def test_resending_the_same_policy_changes_nothing(clients: dict[str, Client], bench: dict[str, Any]) -> None:
    bo = clients["bo"]
    body = {"model_auto_approval_mode": "ALWAYS"}
    bo.ok("PUT", POLICY.format(bench["id"]), body)
    assert bo.ok("PUT", POLICY.format(bench["id"]), body)["association_policy_version"] == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model_auto_approval_mode": "SOMETIMES"}, "model_auto_approval_mode"),
        ({"dataset_auto_approval_allow_list": ["not-an-email"]}, "not an email"),
        ({"dataset_auto_approval_allow_list": "a@b.c"}, "dataset_auto_approval_allow_list"),
        ({}, "nothing to change"),
    ],
)
def test_a_bad_policy_is_refused_and_changes_nothing(
    clients: dict[str, Client], bench: dict[str, Any], body: dict[str, Any], words: str
) -> None:
    response = clients["bo"].put(POLICY.format(bench["id"]), body)
    assert response.status_code in (400, 422), response.text
    assert words in response.text
    assert clients["bo"].ok("GET", f"/benchmarks/{bench['id']}/")["association_policy_version"] == 0


def test_joining_needs_an_approved_benchmark_and_an_operational_model(clients: dict[str, Client]) -> None:
    admin, bo, mo = clients["admin"], clients["bo"], clients["mo"]
    pending = make_benchmark(bo)
    model = make_container(mo)["id"]
    refused = mo.post("/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": pending["id"]})
    assert refused.status_code == 400 and "not approved" in refused.json()["detail"], refused.text
    admin.ok("PUT", f"/benchmarks/{pending['id']}/", {"approval_status": "REJECTED"})
    refused = mo.post("/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": pending["id"]})
    assert "is rejected, not approved" in refused.json()["detail"]
    admin.ok("PUT", f"/benchmarks/{pending['id']}/", {"approval_status": "APPROVED"})
    draft = make_container(mo, state="DEVELOPMENT")["id"]
    refused = mo.post("/mlcubes/benchmarks/", {"model_mlcube": draft, "benchmark": pending["id"]})
    assert refused.status_code == 400 and "in development" in refused.json()["detail"], refused.text
    assert mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": pending["id"]})


def test_an_operational_benchmark_needs_operational_containers(clients: dict[str, Client]) -> None:
    bo = clients["bo"]
    prep, ref = (make_container(bo)["id"] for _ in range(2))
    draft = make_container(bo, state="DEVELOPMENT")["id"]
    body = {"name": "needs-operational", "data_preparation_mlcube": prep, "reference_model_mlcube": ref,
            "data_evaluator_mlcube": draft, "demo_dataset_tarball_url": "https://example.org/demo.tar.gz"}
    refused = bo.post("/benchmarks/", {**body, "state": "OPERATION"})
    assert refused.status_code == 400 and f"container {draft} is in development" in refused.text, refused.text
    created = bo.ok("POST", "/benchmarks/", body)  # in development it may use containers in development
    later = bo.put(f"/benchmarks/{created['id']}/", {"state": "OPERATION"})
    assert later.status_code == 400 and "in development" in later.text
    assert bo.ok("GET", f"/benchmarks/{created['id']}/")["state"] == "DEVELOPMENT"
