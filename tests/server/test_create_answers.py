"""A create (and an update) answers with the entity exactly as a GET right after shows it, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from _server_helpers import CONFIG, Client, associate_dataset, make_dataset, unique

# Values a projection could get wrong: non-ASCII text, quotes and backslashes, nested JSON with lists, floats,
# booleans and nulls, empty objects, booleans that differ from their defaults.
TRICKY_TEXT = "é 'q' \"d\" \\ % 東京 🩺"  # within MedPerf's 20 characters
NESTED = {"b": [1, 2.5, None, True, {"z": "é"}], "a": {"deep": {"er": [[], {}]}}, "n": -0.125, "t": False}


def same_as_get(client: Client, path: str, answer: dict[str, Any]) -> None:
    shown = client.ok("GET", f"{path}{answer['id']}/")
    assert answer == shown
    assert list(answer) == list(shown)  # the same fields, in the same order


def test_a_dataset_answers_as_it_is_then_read(clients: dict[str, Client], world: dict[str, int]) -> None:
    do = clients["do"]
    raw = uuid.uuid4().hex
    answer = do.ok("POST", "/datasets/", {
        "name": unique("dataset"), "description": TRICKY_TEXT, "location": "Zürich", "input_data_hash": raw,
        "generated_uid": raw, "data_preparation_mlcube": world["prep"], "split_seed": 7, "is_valid": False,
        "submitted_as_prepared": True, "user_metadata": NESTED, "report": {"rows": 3, "per_class": NESTED},
    })
    assert answer["description"] == TRICKY_TEXT and answer["user_metadata"] == NESTED and answer["is_valid"] is False
    assert answer["report"]["per_class"] == NESTED and answer["state"] == "DEVELOPMENT"
    same_as_get(do, "/datasets/", answer)
    minimal = make_dataset(do, world["prep"], operational=False)  # the fields left to their defaults
    same_as_get(do, "/datasets/", minimal)


def test_a_container_answers_as_it_is_then_read(clients: dict[str, Client]) -> None:
    mo = clients["mo"]
    answer = mo.ok("POST", "/mlcubes/", {
        "name": unique("container"), "container_config": {**CONFIG, "extra": NESTED}, "state": "OPERATION",
        "parameters_config": {"threshold": 0.5, "labels": ["a", "é"]}, "metadata": NESTED,
        "user_metadata": {"note": TRICKY_TEXT}, "image_hash": "sha256:" + "0" * 64, "is_valid": False,
    })
    assert answer["container_config"]["extra"] == NESTED and answer["state"] == "OPERATION"
    same_as_get(mo, "/mlcubes/", answer)


def test_a_benchmark_answers_as_it_is_then_read(clients: dict[str, Client]) -> None:
    bo = clients["bo"]
    prep, ref, metrics = (bo.ok("POST", "/mlcubes/", {"name": unique("c"), "container_config": CONFIG,
                                                     "state": "OPERATION"})["id"] for _ in range(3))
    answer = bo.ok("POST", "/benchmarks/", {
        "name": unique("benchmark"), "description": TRICKY_TEXT, "docs_url": "https://docs.example.org/b",
        "demo_dataset_tarball_url": "https://example.org/demo.tar.gz", "data_preparation_mlcube": prep,
        "reference_model_mlcube": ref, "data_evaluator_mlcube": metrics, "metadata": NESTED,
        "user_metadata": {"k": [1, 2]}, "is_active": False, "primary_metric": "per_class.normal.sensitivity",
    })
    assert answer["metadata"] == NESTED and answer["is_active"] is False and answer["approval_status"] == "PENDING"
    same_as_get(bo, "/benchmarks/", answer)


def test_a_result_answers_as_it_is_then_read(clients: dict[str, Client], world: dict[str, int]) -> None:
    do, bo = clients["do"], clients["bo"]
    dataset = make_dataset(do, world["prep"])["id"]
    associate_dataset(do, bo, dataset, world["B"])
    answer = do.ok("POST", "/results/", {
        "benchmark": world["B"], "model": world["X"], "dataset": dataset,
        "results": {"auc": 0.8125, "per_class": NESTED}, "metadata": {"note": TRICKY_TEXT},
    })
    assert answer["results"]["per_class"] == NESTED and answer["owner"] == do.ok("GET", "/me/")["id"]
    same_as_get(do, "/results/", answer)


def test_a_dataset_update_answers_as_it_is_then_read(clients: dict[str, Client], world: dict[str, int]) -> None:
    do = clients["do"]
    dataset = make_dataset(do, world["prep"], operational=False)
    path = f"/datasets/{dataset['id']}/"
    changed = do.ok("PUT", path, {"description": TRICKY_TEXT, "user_metadata": NESTED, "is_valid": False,
                                  "report": {"execution_status": "running", "per_class": NESTED}})
    assert changed["description"] == TRICKY_TEXT and changed["report"]["per_class"] == NESTED
    assert changed["modified_at"] > dataset["modified_at"]
    assert changed == do.ok("GET", path)
    operational = do.ok("PUT", path, {"input_data_hash": dataset["input_data_hash"], "generated_uid": unique("p"),
                                      "generated_metadata": NESTED, "state": "OPERATION"})
    assert operational["state"] == "OPERATION" and operational["generated_metadata"] == NESTED
    assert operational == do.ok("GET", path)


def test_a_container_update_answers_as_it_is_then_read(clients: dict[str, Client]) -> None:
    mo = clients["mo"]
    container = mo.ok("POST", "/mlcubes/", {"name": unique("container"), "container_config": CONFIG})
    path = f"/mlcubes/{container['id']}/"
    changed = mo.ok("PUT", path, {"name": unique("renamed"), "metadata": NESTED, "user_metadata": {"n": TRICKY_TEXT},
                                  "container_config": {**CONFIG, "extra": NESTED}})
    assert changed["metadata"] == NESTED and changed["container_config"]["extra"] == NESTED
    assert changed == mo.ok("GET", path) and list(changed) == list(mo.ok("GET", path))
    operational = mo.ok("PUT", path, {"state": "OPERATION"})
    assert operational["state"] == "OPERATION" and operational == mo.ok("GET", path)


def test_a_benchmark_update_answers_as_it_is_then_read(clients: dict[str, Client]) -> None:
    bo = clients["bo"]
    prep, ref, metrics = (bo.ok("POST", "/mlcubes/", {"name": unique("c"), "container_config": CONFIG,
                                                     "state": "OPERATION"})["id"] for _ in range(3))
    benchmark = bo.ok("POST", "/benchmarks/", {
        "name": unique("benchmark"), "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
        "data_preparation_mlcube": prep, "reference_model_mlcube": ref, "data_evaluator_mlcube": metrics,
    })
    path = f"/benchmarks/{benchmark['id']}/"
    changed = bo.ok("PUT", path, {"description": TRICKY_TEXT, "metadata": NESTED, "is_active": False,
                                  "docs_url": "https://docs.example.org/é"})
    assert changed["description"] == TRICKY_TEXT and changed["metadata"] == NESTED and changed["is_active"] is False
    assert changed == bo.ok("GET", path) and list(changed) == list(bo.ok("GET", path))
