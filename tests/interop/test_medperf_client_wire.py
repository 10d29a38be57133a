"""MedPerf's client against our server: the data-owner tutorial's requests, exactly as that client sends them.

Over TLS (the client speaks only HTTPS), with RS256 tokens carrying only MedPerf's claims. Every answer must have the
status code the client insists on and pass the checks its entity models apply (`_medperf_shapes`)."""

from __future__ import annotations

import uuid
from typing import Any

import _medperf_shapes as shapes
import requests
from _interop_server import MedPerfServer
from _medperf_wire import MedPerfWire

DO, BO = "testdo@example.com", "testbo@example.com"


def wire(server: MedPerfServer, email: str, **claims: Any) -> MedPerfWire:
    return MedPerfWire(server.url, server.token(email, **claims), server.certificate)


def dataset_body(prep: int, raw_hash: str, name: str = "mytestdata") -> dict[str, Any]:
    """What `medperf dataset submit` posts: its Dataset model dumped with both field names and aliases, every
    unset optional or read-only field as "" (its `extended_dict`)."""
    return {
        "id": "",
        "name": name,
        "owner": "",
        "created_at": "",
        "modified_at": "",
        "for_test": False,
        "state": "DEVELOPMENT",
        "is_valid": True,
        "description": "A tutorial dataset",
        "location": "My machine",
        "input_data_hash": raw_hash,
        "generated_uid": raw_hash,
        "data_preparation_mlcube": prep,
        "split_seed": 0,
        "generated_metadata": {},
        "metadata": {},  # the alias of generated_metadata
        "user_metadata": {},
        "report": {},
        "submitted_as_prepared": False,
    }


def result_body(benchmark: int, model: int, dataset: int, metrics: dict[str, Any]) -> dict[str, Any]:
    """What `medperf result submit` posts (its Result model, dumped the same way)."""
    return {
        "id": "",
        "name": f"b{benchmark}m{model}d{dataset}",
        "owner": "",
        "created_at": "",
        "modified_at": "",
        "for_test": False,
        "benchmark": benchmark,
        "model": model,
        "dataset": dataset,
        "results": metrics,
        "metadata": {},
        "user_metadata": {},
        "approval_status": "PENDING",
        "approved_at": "",
        "is_valid": True,
    }


def benchmark_row(server: MedPerfServer) -> dict[str, Any]:
    return dict(wire(server, DO).get("/benchmarks/1/"))


def approved_models(client: MedPerfWire, benchmark: dict[str, Any]) -> list[int]:
    """The models `benchmark run` runs: the latest row per model of /benchmarks/{id}/models when APPROVED, then
    the reference model, appended without removing duplicates."""
    rows = client.get_list(
        f"/benchmarks/{benchmark['id']}/models", lambda r: shapes.association(r, "model_mlcube")
    )
    latest: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["created_at"]):
        latest[row["model_mlcube"]] = row
    return [m for m, row in latest.items() if row["approval_status"] == "APPROVED"] + [
        benchmark["reference_model_mlcube"]
    ]


def test_the_data_owner_tutorial_as_medperfs_client_sends_it(medperf_server: MedPerfServer) -> None:
    do = wire(medperf_server, DO)
    me = do.get("/me/", shapes.user)
    assert me["email"] == DO

    # medperf benchmark ls
    benchmarks = do.get_list("/benchmarks/", shapes.benchmark)
    assert [b["name"] for b in benchmarks] == ["chestxray"]

    # medperf dataset submit ... --benchmark 1
    benchmark = do.get("/benchmarks/1", shapes.benchmark)
    prep = do.get(f"/mlcubes/{benchmark['data_preparation_mlcube']}/", shapes.container)
    do.get_list("/me/datasets/", shapes.dataset)  # the client looks for the same data registered before
    raw = uuid.uuid4().hex * 2
    dataset = do.post("/datasets/", dataset_body(prep["id"], raw), shapes.dataset)
    d = dataset["id"]
    assert (dataset["owner"], dataset["state"], dataset["input_data_hash"]) == (me["id"], "DEVELOPMENT", raw)
    assert dataset["description"] == "A tutorial dataset" and dataset["location"] == "My machine"

    # medperf dataset prepare --data_uid D: progress goes to the report
    do.get(f"/datasets/{d}/", shapes.dataset)
    do.get(f"/mlcubes/{prep['id']}/", shapes.container)
    for status in ("started", "running", "finished"):
        do.put(f"/datasets/{d}/", {"report": {"progress": {}, "execution_status": status}})
    assert do.get(f"/datasets/{d}/", shapes.dataset)["report"]["execution_status"] == "finished"

    # medperf dataset set_operational --data_uid D
    prepared = uuid.uuid4().hex * 2
    statistics = {"n_images": 40, "class_counts": {"normal": 20, "pneumonia": 20}}
    do.put(
        f"/datasets/{d}/",
        {"input_data_hash": raw, "generated_uid": prepared, "generated_metadata": statistics, "state": "OPERATION"},
    )
    operational = do.get(f"/datasets/{d}/", shapes.dataset)
    assert (operational["state"], operational["generated_uid"]) == ("OPERATION", prepared)
    assert operational["generated_metadata"] == statistics

    # medperf dataset associate --benchmark_uid 1 --data_uid D: the compatibility test runs the reference model
    benchmark = do.get("/benchmarks/1", shapes.benchmark)
    for role in ("reference_model_mlcube", "data_evaluator_mlcube"):
        do.get(f"/mlcubes/{benchmark[role]}/", shapes.container)
    models = approved_models(do, benchmark)
    assert models.count(benchmark["reference_model_mlcube"]) == 1, models  # not also an association row
    association = do.post(
        "/datasets/benchmarks/",
        {"dataset": d, "benchmark": 1, "approval_status": "PENDING", "metadata": {"test_result": {"acc": 0.5}}},
    )
    assert (association["dataset"], association["benchmark"], association["approval_status"]) == (d, 1, "PENDING")
    rows = do.get_list("/me/datasets/associations/", lambda r: shapes.association(r, "dataset"))
    assert [r["approval_status"] for r in rows if r["dataset"] == d] == ["PENDING"]

    # the benchmark committee approves (the tutorial's script, as the benchmark owner)
    wire(medperf_server, BO).put(f"/datasets/{d}/benchmarks/1/", {"approval_status": "APPROVED"})
    rows = do.get_list("/me/datasets/associations/", lambda r: shapes.association(r, "dataset"))
    assert [r["approval_status"] for r in rows if r["dataset"] == d] == ["APPROVED"]

    # medperf benchmark run --benchmark 1 --data_uid D
    benchmark = do.get("/benchmarks/1", shapes.benchmark)
    do.get(f"/datasets/{d}", shapes.dataset)
    models = approved_models(do, benchmark)
    assert sorted(models) == [2, 4], models
    for model in models:
        do.get(f"/mlcubes/{model}/", shapes.container)
    do.get_list("/me/results/", shapes.result)

    # medperf result submit --result b1m4d1
    metrics = {"accuracy": 0.75, "per_class": {"normal": 0.8, "pneumonia": 0.7}}
    result = do.post("/results/", result_body(1, 4, d, metrics), shapes.result)
    assert (result["benchmark"], result["model"], result["dataset"], result["results"]) == (1, 4, d, metrics)
    assert result["name"] == f"b1m4d{d}"
    mine = do.get_list("/me/results/", shapes.result)
    assert [r["id"] for r in mine] == [result["id"]]
    assert do.get(f"/results/{result['id']}/", shapes.result)["id"] == result["id"]
    # everything the data owner lists reads as MedPerf's entities
    do.get_list("/datasets/", shapes.dataset)
    do.get_list("/mlcubes/", shapes.container)
    do.get_list("/me/datasets/", shapes.dataset)
    assert all(code in (200, 201) for _, _, code in do.calls)


def test_every_path_answers_with_and_without_the_slash(medperf_server: MedPerfServer) -> None:
    do = wire(medperf_server, DO)
    for path in ("/me", "/benchmarks/1", "/mlcubes/1", "/benchmarks/1/models", "/benchmarks", "/mlcubes",
                 "/me/datasets", "/me/results", "/me/datasets/associations"):
        bare, slashed = do.get(path), do.get(path + "/")
        assert bare == slashed, path
    listed = do.get("/benchmarks/1/models?limit=32&offset=0")
    assert listed == do.get("/benchmarks/1/models/?limit=32&offset=0")


def test_lists_page_by_limit_and_offset_as_medperf_loops(medperf_server: MedPerfServer) -> None:
    do = wire(medperf_server, DO)
    everything = do.get_list("/mlcubes/", shapes.container)
    assert len(everything) >= 4
    for size in (1, 2, 3):
        assert do.get_list("/mlcubes/", page_size=size) == everything
    unpaged = do.get("/mlcubes/")  # without a limit: MedPerf's server pages by 32
    assert unpaged["count"] == len(everything) and unpaged["results"] == everything[:32]
    last = do.get(f"/mlcubes/?limit=2&offset={len(everything) - 1}")
    assert last["next"] is None and len(last["results"]) == 1


def test_a_new_user_is_named_by_sub(medperf_server: MedPerfServer) -> None:
    sub = f"auth0|{uuid.uuid4().hex[:12]}"
    me = wire(medperf_server, f"{uuid.uuid4().hex[:8]}@hospital.test", sub=sub).get("/me/", shapes.user)
    assert me["username"] == sub


def test_registration_keeps_every_answer_readable_by_medperf(medperf_server: MedPerfServer) -> None:
    """What would break MedPerf's client is refused at registration with a 400 naming the field; an image hash
    given as `sha256:<hex>` is answered bare."""
    bo = wire(medperf_server, BO)
    image = uuid.uuid4().hex * 2
    name = f"c{uuid.uuid4().hex[:8]}"
    container = bo.post(
        "/mlcubes/",
        {
            "name": name, "git_mlcube_url": "https://example.org/mlcube.yaml", "mlcube_hash": "0" * 64,
            "image_hash": f"sha256:{image}", "tarball_url": "", "tarball_hash": "", "id": "", "owner": "",
        },
        shapes.container,
    )
    assert container["image_hash"] == image
    too_long = "x" * 21
    refusals = {
        "/mlcubes/": {"name": too_long, "git_mlcube_url": "https://example.org/m.yaml"},
        "/benchmarks/": {
            "name": f"b{uuid.uuid4().hex[:8]}", "description": too_long,
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
            "data_preparation_mlcube": 1, "reference_model_mlcube": 2, "data_evaluator_mlcube": 3,
        },
        "/datasets/": {**dataset_body(1, uuid.uuid4().hex), "location": too_long},
        "/results/": {**result_body(1, 4, 1, {"acc": 1.0}), "name": too_long},
    }
    for path, body in refusals.items():
        response = requests.post(
            bo.api + path, json=body, headers={"Authorization": f"Bearer {bo.token}"},
            verify=str(medperf_server.certificate), timeout=30,
        )
        field = next(f for f in ("name", "description", "location") if body.get(f) == too_long)
        assert response.status_code == 400, (path, response.text)
        assert field in response.json(), (path, response.json())  # MedPerf's error shape: field → messages
    no_demo = requests.post(
        bo.api + "/benchmarks/",
        json={**refusals["/benchmarks/"], "description": "ok", "demo_dataset_tarball_url": ""},
        headers={"Authorization": f"Bearer {bo.token}"}, verify=str(medperf_server.certificate), timeout=30,
    )
    assert no_demo.status_code == 400 and "demo_dataset_tarball_url" in no_demo.json(), no_demo.text
    for docs in ("docs.example.org/bmk", "http://localhost/docs", "ftp://docs.example.org/"):
        not_a_url = requests.post(
            bo.api + "/benchmarks/",
            json={**refusals["/benchmarks/"], "description": "ok", "docs_url": docs},
            headers={"Authorization": f"Bearer {bo.token}"}, verify=str(medperf_server.certificate), timeout=30,
        )
        assert not_a_url.status_code == 400 and "docs_url" in not_a_url.json(), (docs, not_a_url.text)
    assert shapes.benchmark({**benchmark_row(medperf_server), "docs_url": "http://localhost/docs"})
    assert shapes.benchmark({**benchmark_row(medperf_server), "docs_url": "https://docs.medperf.org/t"}) == []


def test_unset_fields_sent_as_empty_strings_mean_not_given(medperf_server: MedPerfServer) -> None:
    """MedPerf's client dumps every unset field as "": in a number, flag or JSON field that means "not given"."""
    do = wire(medperf_server, DO)
    body = {
        **dataset_body(1, uuid.uuid4().hex, name=f"d{uuid.uuid4().hex[:8]}"),
        "split_seed": "", "submitted_as_prepared": "", "is_valid": "", "user_metadata": "", "report": "",
        "generated_metadata": "", "metadata": "", "description": "",
    }
    dataset = do.post("/datasets/", body, shapes.dataset)
    assert (dataset["split_seed"], dataset["submitted_as_prepared"], dataset["report"]) == (0, False, {})
    assert dataset["description"] == "" and dataset["is_valid"] is True
