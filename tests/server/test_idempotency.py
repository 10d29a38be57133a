"""Idempotency keys: the same `Idempotency-Key` again answers 201 with the first request's entity, never a second
one and never a conflict; the key is in the log, so it holds across restarts and workers."""

from __future__ import annotations

import uuid
from typing import Any

from _server_helpers import Client, make_dataset, unique

from medperf_core.server.storage import open_server_storage
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, start_server


def _dataset_body(prep: int) -> dict[str, Any]:
    raw = uuid.uuid4().hex
    return {"name": unique("dataset"), "input_data_hash": raw, "generated_uid": raw, "data_preparation_mlcube": prep}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_same_key_same_dataset(clients: dict[str, Client], world: dict[str, int]) -> None:
    do = clients["do"]
    body, key = _dataset_body(world["prep"]), _key()
    first = do.post("/datasets/", body, headers=key)
    again = do.post("/datasets/", body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["id"] == first.json()["id"]
    mine = [d for d in do.ok("GET", "/me/datasets/?limit=1000")["results"] if d["name"] == body["name"]]
    assert len(mine) == 1


def test_without_key_a_second_post_creates_a_second_dataset(clients: dict[str, Client], world: dict[str, int]) -> None:
    do = clients["do"]
    body = _dataset_body(world["prep"])
    assert do.post("/datasets/", body).json()["id"] != do.post("/datasets/", body).json()["id"]


def test_key_reused_for_another_body_is_a_conflict(clients: dict[str, Client], world: dict[str, int]) -> None:
    do, key = clients["do"], _key()
    assert do.post("/datasets/", _dataset_body(world["prep"]), headers=key).status_code == 201
    response = do.post("/datasets/", _dataset_body(world["prep"]), headers=key)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]


def test_keys_are_per_user(clients: dict[str, Client], world: dict[str, int]) -> None:
    key = _key()
    mine = clients["do"].post("/datasets/", _dataset_body(world["prep"]), headers=key)
    theirs = clients["bo"].post("/datasets/", _dataset_body(world["prep"]), headers=key)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"] and theirs.json()["owner"] != mine.json()["owner"]


def test_association_and_result_retries_answer_the_first(clients: dict[str, Client], world: dict[str, int]) -> None:
    do, bo = clients["do"], clients["bo"]
    dataset = make_dataset(do, world["prep"])["id"]
    request = {"dataset": dataset, "benchmark": world["B"], "approval_status": "PENDING", "metadata": {}}
    key = _key()
    first = do.post("/datasets/benchmarks/", request, headers=key)
    again = do.post("/datasets/benchmarks/", request, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["id"] == first.json()["id"]
    without_key = do.post("/datasets/benchmarks/", request)
    assert without_key.status_code == 409  # a second request of a pending association is refused as before
    bo.ok("PUT", f"/datasets/{dataset}/benchmarks/{world['B']}/", {"approval_status": "APPROVED"})
    result = {"benchmark": world["B"], "model": world["ref"], "dataset": dataset, "results": {"acc": 1}}
    key = _key()
    first = do.post("/results/", result, headers=key)
    again = do.post("/results/", result, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["id"] == first.json()["id"]


def _log(server: ServerProcess, *streams: str) -> list[str]:
    """The types of the events of `streams` in the server's log, in order."""
    with open_server_storage(server.where, audit=True).store as store:
        return [e.type for e in store.read_all() if e.stream in streams]


def _key_stream(server: ServerProcess, key: str) -> str:
    with open_server_storage(server.where, audit=True).store as store:
        found = [e.stream for e in store.read_all()
                 if e.type == "request.idempotency_key_recorded" and e.payload["key"] == key]
    assert len(found) == 1, found
    return found[0]


def test_a_dataset_put_retried_with_its_key_is_made_once(
    server: ServerProcess, clients: dict[str, Client], world: dict[str, int]
) -> None:
    """`dataset set_operational` retried after the server committed (its answer lost): the same key and body
    answer 200 with the dataset and append nothing; the key with another body is a 409 that changes nothing."""
    do = clients["do"]
    dataset = make_dataset(do, world["prep"], operational=False)
    body = {"input_data_hash": dataset["input_data_hash"], "generated_uid": uuid.uuid4().hex,
            "generated_metadata": {"n": 3}, "state": "OPERATION"}
    key = _key()
    first = do.put(f"/datasets/{dataset['id']}/", body, headers=key)
    assert first.status_code == 200, first.text
    streams = (f"dataset-{dataset['id']}", _key_stream(server, key["Idempotency-Key"]))
    logged = _log(server, *streams)
    assert logged.count("dataset.marked_operational") == 1 and logged[-1] == "request.idempotency_key_recorded"
    again = do.put(f"/datasets/{dataset['id']}/", body, headers=key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    other = do.put(f"/datasets/{dataset['id']}/", {**body, "generated_metadata": {"n": 4}}, headers=key)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"], other.text
    assert _log(server, *streams) == logged
    assert do.ok("GET", f"/datasets/{dataset['id']}/")["generated_metadata"] == {"n": 3}


def test_a_dataset_report_sent_twice_is_recorded_once(
    server: ServerProcess, clients: dict[str, Client], world: dict[str, int]
) -> None:
    """The preparation report is sent without a key: it replaces the whole `report`, and the same report again
    (an HTTP-level retry whose first answer was lost) changes nothing and appends nothing."""
    do = clients["do"]
    dataset = make_dataset(do, world["prep"], operational=False)
    path, stream = f"/datasets/{dataset['id']}/", f"dataset-{dataset['id']}"
    report = {"report": {"execution_status": "running"}}
    assert do.ok("PUT", path, report)["report"] == report["report"]
    logged = _log(server, stream)
    assert logged.count("dataset.report_updated") == 1
    assert do.ok("PUT", path, report)["report"] == report["report"]
    assert _log(server, stream) == logged


def test_bad_keys_are_refused(clients: dict[str, Client], world: dict[str, int]) -> None:
    response = clients["do"].post("/datasets/", _dataset_body(world["prep"]), headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.text


def test_keys_survive_a_restart(tmp_path: Any) -> None:
    data_dir = tmp_path / "data"
    key, ids = _key(), []
    for _ in range(2):
        with start_server(data_dir, env={"MEDPERF_HOME": str(tmp_path / "home")}) as server:
            bo = Client(server, "bo")
            body = {"name": "survives", "container_config": {"container_type": "DockerImage", "image": "x:1",
                                                             "tasks": {"infer": {"run_args": {"command": "run"}}}}}
            response = bo.post("/mlcubes/", body, headers=key)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
            assert server.token(DEMO_EMAILS["bo"])
    assert ids[0] == ids[1]
    with open_server_storage(data_dir, audit=True).store as store:
        assert [e.type for e in store.read_all()].count("request.idempotency_key_recorded") == 1
