"""The rules the server enforces: frozen operational datasets, association and result preconditions."""

from __future__ import annotations

import uuid

from _server_helpers import Client, associate_dataset, make_benchmark, make_container, make_dataset, unique


def test_an_operational_dataset_keeps_its_hashes_and_statistics(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    do = clients["do"]
    dataset = make_dataset(do, world["prep"])
    path = f"/datasets/{dataset['id']}/"
    for field, value in [
        ("generated_uid", "other"),
        ("input_data_hash", "other"),
        ("generated_metadata", {"n": 99}),
        ("data_preparation_mlcube", world["ref"]),
    ]:
        response = do.put(path, {field: value})
        assert response.status_code == 400, response.text
        assert field in response.json()["detail"]
    assert do.ok("PUT", path, dict(dataset))["generated_uid"] == dataset["generated_uid"]  # resending is fine
    assert do.ok("PUT", path, {"description": "still editable"})["description"] == "still editable"
    back = do.put(path, {"state": "DEVELOPMENT"})
    assert back.status_code == 400 and "cannot go back" in back.json()["detail"]


def test_set_operational_is_one_put_and_the_report_is_kept(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    do = clients["do"]
    dataset = make_dataset(do, world["prep"], operational=False)
    path = f"/datasets/{dataset['id']}/"
    assert do.ok("PUT", path, {"report": {"execution_status": "running"}})["report"] == {
        "execution_status": "running"
    }
    prepared = uuid.uuid4().hex
    done = do.ok(
        "PUT",
        path,
        {
            "input_data_hash": dataset["input_data_hash"],
            "generated_uid": prepared,
            "generated_metadata": {"images": 10},
            "state": "OPERATION",
        },
    )
    assert (done["state"], done["generated_uid"], done["generated_metadata"]) == (
        "OPERATION",
        prepared,
        {"images": 10},
    )
    assert done["report"] == {"execution_status": "running"}


def test_generated_uid_is_unique_among_operational_datasets(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    do = clients["do"]
    first = make_dataset(do, world["prep"])
    second = make_dataset(do, world["prep"], operational=False)
    response = do.put(
        f"/datasets/{second['id']}/",
        {"generated_uid": first["generated_uid"], "generated_metadata": {"n": 1}, "state": "OPERATION"},
    )
    assert response.status_code == 409
    assert "generated_uid" in response.json()


def test_only_operational_datasets_request_association(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    dataset = make_dataset(clients["do"], world["prep"], operational=False)
    response = clients["do"].post(
        "/datasets/benchmarks/", {"dataset": dataset["id"], "benchmark": world["B"]}
    )
    assert response.status_code == 400
    assert "not operational" in response.json()["detail"]


def test_a_pending_request_cannot_be_repeated_and_a_decision_is_final(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    do, bo = clients["do"], clients["bo"]
    d = make_dataset(do, world["prep"])["id"]
    associate_dataset(do, bo, d, world["B"], status=None)
    again = do.post("/datasets/benchmarks/", {"dataset": d, "benchmark": world["B"]})
    assert again.status_code == 409 and "pending" in again.json()["detail"]
    bo.ok("PUT", f"/datasets/{d}/benchmarks/{world['B']}/", {"approval_status": "REJECTED"})
    flip = bo.put(f"/datasets/{d}/benchmarks/{world['B']}/", {"approval_status": "APPROVED"})
    assert flip.status_code == 400 and "already rejected" in flip.json()["detail"]
    # a rejected association may be requested again: the latest row counts
    associate_dataset(do, bo, d, world["B"])
    assert do.ok("GET", f"/datasets/{d}/benchmarks/{world['B']}/")["approval_status"] == "APPROVED"


def test_the_benchmark_owner_is_approved_at_once(clients: dict[str, Client], world: dict[str, int]) -> None:
    bo = clients["bo"]
    benchmark = make_benchmark(bo, approved_by=clients["admin"])
    model = make_container(bo)["id"]
    row = bo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": benchmark["id"]})
    assert row["approval_status"] == "APPROVED"
    dataset = make_dataset(bo, benchmark["data_preparation_mlcube"])["id"]
    row = bo.ok("POST", "/datasets/benchmarks/", {"dataset": dataset, "benchmark": benchmark["id"]})
    assert row["approval_status"] == "APPROVED"
    models = bo.ok("GET", f"/benchmarks/{benchmark['id']}/models")["results"]
    # The reference model is no association row: MedPerf's clients append it to these rows themselves.
    assert [m["model_mlcube"] for m in models] == [model]


def test_results_need_approved_associations_and_are_unique(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    do, bo, mo = clients["do"], clients["bo"], clients["mo"]
    d = make_dataset(do, world["prep"])["id"]
    body = {"benchmark": world["B"], "model": world["ref"], "dataset": d, "results": {"acc": 1}}
    not_associated = do.post("/results/", body)
    assert not_associated.status_code == 400 and "not requested" in not_associated.json()["detail"]
    associate_dataset(do, bo, d, world["B"], status=None)
    pending = do.post("/results/", body)
    assert pending.status_code == 400 and "pending" in pending.json()["detail"]
    bo.ok("PUT", f"/datasets/{d}/benchmarks/{world['B']}/", {"approval_status": "APPROVED"})
    unapproved_model = make_container(mo)["id"]
    mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": unapproved_model, "benchmark": world["B"]})
    refused = do.post("/results/", {**body, "model": unapproved_model})
    assert refused.status_code == 400 and f"model {unapproved_model}" in refused.json()["detail"]
    result = do.ok("POST", "/results/", body)  # the reference model needs no model association
    assert (result["owner"], result["results"], result["name"]) == (
        do.ok("GET", "/me")["id"],
        {"acc": 1},
        f"b{world['B']}m{world['ref']}d{d}",
    )
    twice = do.post("/results/", body)
    assert twice.status_code == 409 and "already exists" in twice.json()["detail"]
    assert result["id"] in {
        r["id"] for r in bo.ok("GET", f"/benchmarks/{world['B']}/results/?limit=1000")["results"]
    }


def test_read_only_fields_in_bodies_are_ignored(clients: dict[str, Client], world: dict[str, int]) -> None:
    mo = clients["mo"]
    from _server_helpers import CONFIG, unique

    body = {
        "id": "",
        "owner": None,
        "created_at": "",
        "modified_at": None,
        "name": unique("ro"),
        "container_config": CONFIG,
        "parameters_config": None,
        "is_valid": True,
        "unknown_field": [1, 2],
    }
    row = mo.ok("POST", "/mlcubes/", body)
    assert row["owner"] == mo.ok("GET", "/me/")["id"] and isinstance(row["id"], int) and row["created_at"]


def test_frozen_containers_and_benchmarks(clients: dict[str, Client], world: dict[str, int]) -> None:
    mo, bo = clients["mo"], clients["bo"]
    container = make_container(mo, state="OPERATION", image_hash="sha256:abc")
    response = mo.put(f"/mlcubes/{container['id']}/", {"image_hash": "sha256:def"})
    assert response.status_code == 400 and "image_hash" in response.json()["detail"]
    response = bo.put(f"/benchmarks/{world['B']}/", {"reference_model_mlcube": world["X"]})
    assert response.status_code == 400 and "reference_model_mlcube" in response.json()["detail"]


def test_registration_starts_in_development(clients: dict[str, Client], world: dict[str, int]) -> None:
    raw = uuid.uuid4().hex
    body = {"name": unique("dataset"), "input_data_hash": raw, "generated_uid": raw,
            "data_preparation_mlcube": world["prep"], "state": "OPERATION"}
    response = clients["do"].post("/datasets/", body)
    assert response.status_code == 400
    assert "DEVELOPMENT" in response.json()["state"][0]


def test_operational_needs_the_prepared_hash_and_statistics(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    do = clients["do"]
    dataset = make_dataset(do, world["prep"], operational=False)
    path, raw = f"/datasets/{dataset['id']}/", dataset["input_data_hash"]
    refused = {
        "generated_uid": {"state": "OPERATION"},
        "generated_metadata": {"generated_uid": uuid.uuid4().hex, "state": "OPERATION"},
    }
    for field, body in refused.items():
        response = do.put(path, body)
        assert response.status_code == 400 and field in response.json(), response.text
    never_prepared = do.put(path, {"generated_uid": raw, "generated_metadata": {"n": 1}, "state": "OPERATION"})
    assert never_prepared.status_code == 400 and "never prepared" in never_prepared.text
    assert do.ok("GET", path)["state"] == "DEVELOPMENT"
