"""A benchmark with two models and four datasets in every stage, owned by two data owners (do, and mo acting as one).

site 1 (do): approved, n_cases 40       site 2 (mo): approved, n_cases 10
site 3 (do): association pending        site 4 (do): preparing for the benchmark (report running), never associated
Figures are chosen so that the reference model leads on accuracy and the second model on auc.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from _server_helpers import Client, associate_dataset, make_benchmark, make_container, unique

# (site, owner role, n_cases, {model: (accuracy, auc)}) with "ref" the reference model, "x" the second model.
FIGURES: dict[int, dict[str, tuple[float, float]]] = {
    1: {"ref": (0.90, 0.95), "x": (0.70, 0.97)},
    2: {"ref": (0.50, 0.60), "x": (0.80, 0.85)},
}
CASES = {1: 40, 2: 10}
OWNERS = {1: "do", 2: "mo", 3: "do", 4: "do"}


def register_dataset(client: Client, prep: int, *, operational: bool, report: dict[str, Any] | None = None) -> Any:
    raw = uuid.uuid4().hex
    body = {
        "name": unique("site"), "description": "a hospital", "location": unique("location"),
        "input_data_hash": raw, "generated_uid": raw, "data_preparation_mlcube": prep,
    }
    if report:
        body["report"] = report
    dataset = client.ok("POST", "/datasets/", body)
    if operational:
        dataset = client.ok("PUT", f"/datasets/{dataset['id']}/", {
            "input_data_hash": raw, "generated_uid": uuid.uuid4().hex, "generated_metadata": {"n": 1},
            "state": "OPERATION",
        })
    return dataset


def metrics(n_cases: int | None, accuracy: float, auc: float) -> dict[str, Any]:
    """Shaped like the tutorial's metrics container's output."""
    found: dict[str, Any] = {} if n_cases is None else {"n_cases": n_cases}
    found.update({"accuracy": accuracy, "auc": auc, "per_class": {"normal": {"sensitivity": accuracy / 2}}})
    return found


@pytest.fixture(scope="session")
def world_of_sites(clients: dict[str, Client]) -> dict[str, Any]:
    bo, mo = clients["bo"], clients["mo"]
    benchmark = make_benchmark(
        bo, state="OPERATION", description="Chest X-ray triage", approved_by=clients["admin"]
    )
    b, prep = benchmark["id"], benchmark["data_preparation_mlcube"]
    models = {"ref": benchmark["reference_model_mlcube"], "x": make_container(mo)["id"]}
    mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": models["x"], "benchmark": b})
    bo.ok("PUT", f"/mlcubes/{models['x']}/benchmarks/{b}/", {"approval_status": "APPROVED"})
    datasets: dict[int, Any] = {}
    for site, role in OWNERS.items():
        owner = clients[role]
        preparing = site == 4
        datasets[site] = register_dataset(
            owner, prep, operational=not preparing, report={"execution_status": "running"} if preparing else None
        )
        d = datasets[site]["id"]
        if site in (1, 2):
            associate_dataset(owner, bo, d, b)
            for key, (accuracy, auc) in FIGURES[site].items():
                owner.ok("POST", "/results/", {
                    "benchmark": b, "model": models[key], "dataset": d,
                    "results": metrics(CASES[site], accuracy, auc),
                })
        elif site == 3:
            associate_dataset(owner, bo, d, b, status=None)
    return {"benchmark": benchmark, "models": models, "datasets": datasets}


def expected_pooled(sites: list[int], model: str, metric: int) -> float:
    """The weighted figure computed independently of the server: sum(n·x) / sum(n)."""
    total = sum(CASES[s] for s in sites)
    return sum(CASES[s] * FIGURES[s][model][metric] for s in sites) / total
