"""`medperf benchmark view ID --results` against a real server: ranked by the benchmark's primary metric, models
and submitters by name and email, `--json` for scripts, an unknown `--format` refused, and a data owner's own
results shown to them (as the page and `GET /benchmarks/ID/leaderboard/` do)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from _server_helpers import Client, associate_dataset, make_benchmark, make_container, make_dataset

from medperf_core.testing.server import DEMO_EMAILS

Medperf = Callable[..., tuple[int, str, str]]  # the `medperf` fixture (tests/cli/conftest.py)


def results_world(clients: dict[str, Client], primary_metric: str) -> dict[str, Any]:
    """A benchmark whose reference model wins on auc and model X on acc (acc comes first in the results)."""
    admin, bo, mo, do = (clients[r] for r in ("admin", "bo", "mo", "do"))
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=admin, primary_metric=primary_metric)
    b, ref = benchmark["id"], benchmark["reference_model_mlcube"]
    x = make_container(mo)
    mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": x["id"], "benchmark": b, "approval_status": "PENDING"})
    bo.ok("PUT", f"/mlcubes/{x['id']}/benchmarks/{b}/", {"approval_status": "APPROVED"})
    d = make_dataset(do, benchmark["data_preparation_mlcube"])
    associate_dataset(do, bo, d["id"], b)
    for model, metrics in ((x["id"], {"acc": 0.9, "auc": 0.2}), (ref, {"acc": 0.1, "auc": 0.8})):
        do.ok("POST", "/results/", {"benchmark": b, "model": model, "dataset": d["id"], "results": metrics})
    return {"B": b, "ref": ref, "X": x, "D": d}


def test_ranked_by_the_primary_metric_with_names_and_json(clients: dict[str, Client], medperf: Medperf) -> None:
    w = results_world(clients, "auc")
    code, out, err = medperf("bo", "benchmark", "view", str(w["B"]), "--results", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert (view["scope"], view["primary_metric"], view["primary_metric_source"]) == ("all", "auc",
                                                                                       "benchmark setting")
    assert [(r["rank"], r["model"]) for r in view["rows"]] == [(1, w["ref"]), (2, w["X"]["id"])]
    assert view["rows"][1]["model_name"] == w["X"]["name"]
    assert {r["dataset_name"] for r in view["results"]} == {w["D"]["name"]}

    code, text, _ = medperf("bo", "benchmark", "view", str(w["B"]), "--results")
    assert code == 0
    assert "Ranking by auc (the benchmark's primary metric):" in text, text
    ranking = text.split("Ranking by auc")[1].split("\n\n")[0].splitlines()[3:]
    assert [line.split()[0] for line in ranking] == ["1", "2"], text
    assert f"{w['X']['name']} ({w['X']['id']})" in ranking[1], text


def test_without_a_primary_metric_the_first_one_and_it_says_so(
    clients: dict[str, Client], medperf: Medperf
) -> None:
    w = results_world(clients, "")
    code, text, err = medperf("bo", "benchmark", "view", str(w["B"]), "--results")
    assert code == 0, err
    assert "Ranking by acc (the first metric of the results: the benchmark names no primary metric):" in text, text


def test_a_data_owner_sees_their_own_results_and_a_model_owner_none(
    clients: dict[str, Client], medperf: Medperf
) -> None:
    w = results_world(clients, "auc")
    code, out, err = medperf("do", "benchmark", "view", str(w["B"]), "--results", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["scope"] == "own"
    assert {(r["model"], r["owner_email"]) for r in view["results"]} == {
        (w["X"]["id"], DEMO_EMAILS["do"]), (w["ref"], DEMO_EMAILS["do"])}
    code, text, _ = medperf("do", "benchmark", "view", str(w["B"]), "--results")
    assert code == 0 and "2 of your results" in text and DEMO_EMAILS["do"] in text, text
    code, out, err = medperf("mo", "benchmark", "view", str(w["B"]), "--results", "--json")
    assert code == 0, err
    assert json.loads(out)["results"] == []


@pytest.mark.parametrize("extra", [("--results",), ()])
def test_an_unknown_format_is_refused_in_one_line(
    clients: dict[str, Client], medperf: Medperf, extra: tuple[str, ...]
) -> None:
    w = results_world(clients, "auc")
    code, out, err = medperf("bo", "benchmark", "view", str(w["B"]), *extra, "-f", "xml")
    assert (code, out) == (2, "")
    assert err == "❌ Error: unknown format 'xml' (use --format yaml or --format json (or --json))\n"
