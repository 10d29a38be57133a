"""A create's answer is projected from its own events in memory: no read of the database, and the same entity a
read then gives (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medperf_core.domain.callers import Caller
from medperf_core.domain.events import AssociationRequested, DatasetReportUpdated, DomainEvent
from medperf_core.domain.resources import ASSOCIATIONS, BENCHMARK, CONTAINER, DATASET, Resource
from medperf_core.server.services import ServerServices
from medperf_core.server.storage import open_server_storage
from medperf_core.store.backends import ServerStorage
from medperf_core.store.records import StoredEvent
from medperf_core.store.server_read_model import ServerReadModel
from medperf_core.store.sql.new_rows import project_row

OWNER = Caller(id=1, email="do@example.com")
CONFIG = {"container_type": "DockerImage", "image": "example/prep:1",
          "tasks": {"prepare": {"run_args": {"command": "prepare"}}}}


class NoReadsBack:
    """The read model, except that reading an entity by its id fails: what a create must not need."""

    def __init__(self, reads: ServerReadModel) -> None:
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        if name in ("get", "dataset_visible_to", "result_visible_to"):
            raise AssertionError(f"the create read the database back ({name})")
        return getattr(self._reads, name)


def dataset_body(prep: int, n: int) -> dict[str, Any]:
    return {"name": f"d{n}", "description": "é 'q' \\ %", "input_data_hash": f"h{n}", "generated_uid": f"u{n}",
            "data_preparation_mlcube": prep, "is_valid": False, "user_metadata": {"b": [1, 2.5, None], "a": {}},
            "report": {"rows": n}}


@pytest.fixture
def storage(where: str | Path) -> Iterator[ServerStorage]:
    """A new server's log and read model, on SQLite and on PostgreSQL."""
    opened = open_server_storage(where)
    yield opened
    opened.store.close()


def report_of_dataset_5(storage: ServerStorage) -> tuple[list[DomainEvent], list[StoredEvent]]:
    """An update of dataset 5 (which nothing registered), appended: the event and its stored record."""
    event = DatasetReportUpdated(dataset_id=5, report={"n": 1})
    return [event], storage.store.append("dataset-5", 0, [event], "do@example.com")


def test_a_create_answers_without_reading_the_database(storage: ServerStorage) -> None:
    services = ServerServices.over(storage.store, storage.reads)
    prep = services.containers.create(OWNER, {"name": "prep", "container_config": CONFIG})["id"]
    blind = ServerServices.over(storage.store, NoReadsBack(storage.reads))  # type: ignore[arg-type]
    answer = blind.datasets.create(OWNER, dataset_body(prep, 1))
    container = blind.containers.create(OWNER, {"name": "model", "container_config": CONFIG, "metadata": {"x": 1}})
    assert container["metadata"] == {"x": 1}
    assert answer == storage.reads.get(DATASET, answer["id"])
    assert answer["owner"] == OWNER.id and answer["report"] == {"rows": 1} and answer["is_valid"] is False
    assert answer["created_at"] and answer["created_at"] <= answer["modified_at"]  # then its report came
    assert container == storage.reads.get(CONTAINER, container["id"])


def test_creates_in_many_threads_each_answer_their_own_entity(storage: ServerStorage) -> None:
    services = ServerServices.over(storage.store, storage.reads)
    prep = services.containers.create(OWNER, {"name": "prep", "container_config": CONFIG})["id"]
    answers: dict[int, dict[str, Any]] = {}

    def create(n: int) -> None:
        answers[n] = services.datasets.create(OWNER, dataset_body(prep, n))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a["id"] for a in answers.values()) == list(range(1, 13))
    for n, answer in answers.items():
        assert answer["name"] == f"d{n}" and answer["report"] == {"rows": n}
        assert answer == storage.reads.get(DATASET, answer["id"])


def test_events_that_make_no_such_row_project_to_none(storage: ServerStorage) -> None:
    events, stored = report_of_dataset_5(storage)
    assert storage.reads.created(DATASET, 5, events, stored) is None  # an update alone makes no row
    with pytest.raises(ValueError, match="paired in order"):
        project_row(DATASET, 5, events * 2, stored, lambda row: {"id": row[0]})


def test_a_row_whose_id_the_table_decides_is_left_to_a_read(storage: ServerStorage) -> None:
    event = AssociationRequested(kind="dataset", benchmark=1, entity=2, initiated_by=1)
    stored = storage.store.append("association-dataset-2-1", 0, [event], "do@example.com")
    assert storage.reads.created(ASSOCIATIONS["dataset"], 1, [event], stored) is None
    assert storage.reads.get(ASSOCIATIONS["dataset"], 1) is not None  # the database made it


class CountedReads:
    """The read model, counting the reads of one entity by id."""

    def __init__(self, reads: ServerReadModel) -> None:
        self._reads = reads
        self.reads = 0

    def dataset_visible_to(self, user_id: int, dataset_id: int) -> Any:
        self.reads += 1
        return self._reads.dataset_visible_to(user_id, dataset_id)

    def get(self, resource: Resource, entity_id: int) -> Any:
        self.reads += 1
        return self._reads.get(resource, entity_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)


def test_an_update_answers_from_what_its_decision_read(storage: ServerStorage) -> None:
    services = ServerServices.over(storage.store, storage.reads)
    prep = services.containers.create(OWNER, {"name": "prep", "container_config": CONFIG})["id"]
    created = services.datasets.create(OWNER, dataset_body(prep, 1))
    counted = CountedReads(storage.reads)
    blind = ServerServices.over(storage.store, counted)  # type: ignore[arg-type]
    answer = blind.datasets.update(OWNER, created["id"], {"report": {"rows": 2}, "user_metadata": {"z": "é"}})
    assert counted.reads == 1  # the decision's own read; none after the append
    assert answer == storage.reads.get(DATASET, created["id"])
    assert answer["report"] == {"rows": 2} and answer["user_metadata"] == {"z": "é"}
    assert answer["modified_at"] > created["modified_at"] and answer["name"] == "d1"


def test_a_container_and_a_benchmark_update_answer_from_what_their_decision_read(storage: ServerStorage) -> None:
    services = ServerServices.over(storage.store, storage.reads)
    containers = [services.containers.create(OWNER, {"name": f"c{n}", "container_config": CONFIG,
                                                     "state": "OPERATION"})["id"] for n in range(3)]
    benchmark = services.benchmarks.create(OWNER, {
        "name": "b", "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
        "data_preparation_mlcube": containers[0], "reference_model_mlcube": containers[1],
        "data_evaluator_mlcube": containers[2],
    })["id"]
    counted = CountedReads(storage.reads)
    blind = ServerServices.over(storage.store, counted)  # type: ignore[arg-type]
    container = blind.containers.update(OWNER, containers[0], {"metadata": {"z": "é"}})
    assert counted.reads == 1  # the decision's own read; none after the append
    assert container == storage.reads.get(CONTAINER, containers[0]) and container["metadata"] == {"z": "é"}
    counted.reads = 0
    updated = blind.benchmarks.update(OWNER, benchmark, {"description": "new", "is_active": False})
    assert counted.reads == 1
    assert updated == storage.reads.get(BENCHMARK, benchmark) and updated["description"] == "new"


def test_a_row_before_that_lacks_columns_is_left_to_a_read(storage: ServerStorage) -> None:
    events, stored = report_of_dataset_5(storage)
    assert storage.reads.updated(DATASET, 5, {"id": 5, "name": "only two fields"}, events, stored) is None
