"""`GET /benchmarks/ID/leaderboard/` per role, against a real server: figures, ranking, and what each role may see."""

from __future__ import annotations

from typing import Any

import pytest
from _server_helpers import Client, associate_dataset, make_benchmark, make_container
from _ui_world import CASES, FIGURES, expected_pooled, register_dataset

ACC, AUC = 0, 1


def board(client: Client, world: dict[str, Any]) -> dict[str, Any]:
    return client.ok("GET", f"/benchmarks/{world['benchmark']['id']}/leaderboard/")


def rows_by_model(found: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {r["model"]: r for r in found["rows"]}


@pytest.mark.parametrize(("role", "sites"), [("bo", [1, 2]), ("admin", [1, 2]), ("do", [1]), ("mo", [2])])
def test_pooled_figures_are_the_n_cases_weighted_means_of_the_visible_sites(
    clients: dict[str, Client], world_of_sites: dict[str, Any], role: str, sites: list[int]
) -> None:
    found = board(clients[role], world_of_sites)
    assert found["scope"] == ("all" if role in ("bo", "admin") else "own")
    assert found["metrics"] == ["accuracy", "auc", "per_class.normal.sensitivity"]
    assert (found["primary_metric"], found["primary_metric_source"]) == ("accuracy", "first metric")
    rows = rows_by_model(found)
    for key, model in world_of_sites["models"].items():
        row = rows[model]
        assert row["sites"] == len(sites) and row["cases"] == sum(CASES[s] for s in sites)
        for metric, index in (("accuracy", ACC), ("auc", AUC)):
            pooled = row["pooled"][metric]
            assert pooled["method"] == "weighted by n_cases"
            assert pooled["value"] == pytest.approx(expected_pooled(sites, key, index), abs=1e-12)
            assert (pooled["sites"], pooled["cases"]) == (len(sites), sum(CASES[s] for s in sites))
    # ranked by accuracy, higher first
    values = {key: expected_pooled(sites, key, ACC) for key in ("ref", "x")}
    leader = max(values, key=lambda k: values[k])
    assert found["rows"][0]["model"] == world_of_sites["models"][leader] and found["rows"][0]["rank"] == 1
    assert found["rows"][1]["rank"] == 2
    submitted = {(r["model"], r["dataset"]) for r in found["results"]}
    ids = {s: world_of_sites["datasets"][s]["id"] for s in sites}
    assert submitted == {(m, ids[s]) for m in world_of_sites["models"].values() for s in sites}


def test_the_benchmark_owner_ranks_by_the_primary_metric_it_sets(
    clients: dict[str, Client], world_of_sites: dict[str, Any]
) -> None:
    b = world_of_sites["benchmark"]["id"]
    assert clients["do"].put(f"/benchmarks/{b}/", {"primary_metric": "auc"}).status_code == 403
    clients["bo"].ok("PUT", f"/benchmarks/{b}/", {"primary_metric": "auc"})
    try:
        found = board(clients["bo"], world_of_sites)
        assert (found["primary_metric"], found["primary_metric_source"]) == ("auc", "benchmark setting")
        assert [r["model"] for r in found["rows"]] == [world_of_sites["models"]["x"], world_of_sites["models"]["ref"]]
        assert clients["mo"].ok("GET", f"/benchmarks/{b}/")["primary_metric"] == "auc"
    finally:
        clients["bo"].ok("PUT", f"/benchmarks/{b}/", {"primary_metric": ""})


def test_where_every_site_stands_follows_dataset_visibility(
    clients: dict[str, Client], world_of_sites: dict[str, Any]
) -> None:
    ids = {s: d["id"] for s, d in world_of_sites["datasets"].items()}
    expected = {
        "bo": {1: "APPROVED", 2: "APPROVED", 3: "PENDING"},
        "admin": {1: "APPROVED", 2: "APPROVED", 3: "PENDING", 4: "not requested"},
        "do": {1: "APPROVED", 3: "PENDING", 4: "not requested"},
        "mo": {2: "APPROVED"},
    }
    for role, sites in expected.items():
        found = {d["dataset"]: d for d in board(clients[role], world_of_sites)["datasets"]}
        assert {d: found[d]["association"] for d in found} == {ids[s]: status for s, status in sites.items()}, role
        for site in sites:
            shown = found[ids[site]]
            api = clients[role].get(f"/datasets/{ids[site]}/")
            assert api.status_code == 200, role  # shown only because the API shows it
            assert (shown["name"], shown["location"]) == (api.json()["name"], api.json()["location"])
        if 4 in sites:
            assert (found[ids[4]]["state"], found[ids[4]]["stage"]) == ("DEVELOPMENT", "preparing (running)")
            assert found[ids[4]]["report"] == {"execution_status": "running"}
        if 1 in sites:
            assert found[ids[1]]["stage"] == "operational"
            assert sorted(found[ids[1]]["models_with_results"]) == sorted(world_of_sites["models"].values())
    assert clients["bo"].get(f"/datasets/{ids[4]}/").status_code == 404


def test_a_model_owner_without_sites_sees_the_models_and_no_figure(clients: dict[str, Client]) -> None:
    """A benchmark where mo owns no dataset: the API shows mo no result, so neither does the leaderboard."""
    bo, do = clients["bo"], clients["do"]
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=clients["admin"])
    d = register_dataset(do, benchmark["data_preparation_mlcube"], operational=True)["id"]
    associate_dataset(do, bo, d, benchmark["id"])
    do.ok("POST", "/results/", {
        "benchmark": benchmark["id"], "model": benchmark["reference_model_mlcube"], "dataset": d,
        "results": {"accuracy": 0.5},
    })
    found = clients["mo"].ok("GET", f"/benchmarks/{benchmark['id']}/leaderboard/")
    assert found["results"] == [] and found["datasets"] == [] and found["metrics"] == []
    assert [(r["model"], r["rank"], r["pooled"]) for r in found["rows"]] == [
        (benchmark["reference_model_mlcube"], None, {})
    ]


def test_without_n_cases_the_plain_mean_says_so(clients: dict[str, Client]) -> None:
    bo, do, mo = clients["bo"], clients["do"], clients["mo"]
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=clients["admin"])
    b, ref = benchmark["id"], benchmark["reference_model_mlcube"]
    figures = {"do": (30, 0.9), "mo": (None, 0.6)}  # one site gives no n_cases: the mean, not a weighted figure
    for role, (n, acc) in figures.items():
        d = register_dataset(clients[role], benchmark["data_preparation_mlcube"], operational=True)["id"]
        associate_dataset(clients[role], bo, d, b)
        body = {"accuracy": acc, **({"n_cases": n} if n else {})}
        clients[role].ok("POST", "/results/", {"benchmark": b, "model": ref, "dataset": d, "results": body})
    row = bo.ok("GET", f"/benchmarks/{b}/leaderboard/")["rows"][0]
    assert row["pooled"]["accuracy"] == {"value": pytest.approx(0.75), "method": "mean", "sites": 2, "cases": None}
    assert (row["sites"], row["cases"]) == (2, None)
    own = do.ok("GET", f"/benchmarks/{b}/leaderboard/")["rows"][0]["pooled"]["accuracy"]
    assert own == {"value": 0.9, "method": "weighted by n_cases", "sites": 1, "cases": 30}
    assert mo.ok("GET", f"/benchmarks/{b}/leaderboard/")["rows"][0]["pooled"]["accuracy"]["method"] == "mean"


def test_a_model_with_a_result_is_listed_even_when_its_association_is_later_rejected(
    clients: dict[str, Client], world_of_sites: dict[str, Any]
) -> None:
    bo, mo = clients["bo"], clients["mo"]
    b = world_of_sites["benchmark"]["id"]
    pending = make_container(mo)["id"]
    mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": pending, "benchmark": b})
    models = [r["model"] for r in bo.ok("GET", f"/benchmarks/{b}/leaderboard/")["rows"]]
    assert pending not in models  # only approved models (and those with results) have a row
    assert sorted(models) == sorted(world_of_sites["models"].values())


def test_the_leaderboard_is_in_the_openapi_document(clients: dict[str, Client]) -> None:
    document = clients["anon"].ok("GET", "/openapi.json")
    assert "get" in document["paths"]["/api/v0/benchmarks/{benchmark_id}/leaderboard/"]


def test_an_unknown_benchmark_is_404(clients: dict[str, Client]) -> None:
    assert clients["bo"].get("/benchmarks/999999/leaderboard/").status_code == 404
    assert clients["anon"].get("/benchmarks/1/leaderboard/").status_code == 401


def test_figures_match_the_results_endpoint(clients: dict[str, Client], world_of_sites: dict[str, Any]) -> None:
    """Every per-site figure on the leaderboard is a result the API shows the same role."""
    b = world_of_sites["benchmark"]["id"]
    for role in ("bo", "do", "mo"):
        visible = {r["id"]: r for r in clients[role].ok("GET", "/results/?limit=1000")["results"]}
        for site in board(clients[role], world_of_sites)["results"]:
            api = visible[site["result"]]
            assert api["benchmark"] == b and (api["model"], api["dataset"]) == (site["model"], site["dataset"])
            assert site["metrics"]["accuracy"] == api["results"]["accuracy"]
            assert site["n_cases"] == api["results"]["n_cases"]
    assert FIGURES  # the world's figures are what was submitted
