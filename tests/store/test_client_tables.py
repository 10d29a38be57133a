"""The client's tables show a dataset's and an execution's state exactly as the domain's state machines fold it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medperf_core.domain import datasets as dataset_machine
from medperf_core.domain import events as ev
from medperf_core.domain import executions as execution_machine
from medperf_core.domain import streams
from medperf_core.store.backends import ClientStorage, open_client_storage

ACTOR = "owner@example.com"


def _record(storage: ClientStorage, stream: str, *events: ev.DomainEvent) -> None:
    for event in events:
        storage.store.append(stream, storage.store.version(stream), [event], ACTOR)


def _dataset_as_folded(storage: ClientStorage, dataset_id: int) -> dict[str, Any]:
    events, _ = storage.store.load(streams.dataset(dataset_id))
    folded = dataset_machine.fold(events)
    assert folded is not None
    return {"state": folded.state.value, "input_data_hash": folded.input_data_hash,
            "generated_uid": folded.generated_uid, "statistics": folded.statistics}


def _dataset_as_shown(storage: ClientStorage, dataset_id: int) -> dict[str, Any]:
    row = storage.reads.dataset(dataset_id)
    assert row is not None
    return {k: row[k] for k in ("state", "input_data_hash", "generated_uid", "statistics")}


def test_an_operational_dataset_shows_the_hash_it_was_marked_operational_with(tmp_path: Path) -> None:
    # The server may take a corrected raw-data hash with the move to OPERATION: the event carries it, the domain
    # folds it in, so the local table must show it too.
    storage = open_client_storage(tmp_path / "events.db")
    stream = streams.dataset(1)
    _record(storage, stream, ev.DatasetRegistered(dataset_id=1, name="d", owner=3, input_data_hash="raw-v1",
                                                  generated_uid="raw-v1", data_preparation_mlcube=2))
    assert _dataset_as_shown(storage, 1) == _dataset_as_folded(storage, 1)
    _record(storage, stream, ev.DatasetPrepared(dataset_id=1, generated_uid="prep", statistics={"n": 2}))
    assert _dataset_as_shown(storage, 1) == _dataset_as_folded(storage, 1)
    _record(storage, stream, ev.DatasetMarkedOperational(dataset_id=1, input_data_hash="raw-v2", generated_uid="prep",
                                                         statistics={"n": 2}))
    assert _dataset_as_folded(storage, 1)["input_data_hash"] == "raw-v2"
    assert _dataset_as_shown(storage, 1) == _dataset_as_folded(storage, 1)
    storage.store.recorder.close()


def test_an_execution_shows_the_state_the_domain_folds(tmp_path: Path) -> None:
    storage = open_client_storage(tmp_path / "events.db")
    uid = execution_machine.result_uid(1, 2, 3)
    stream = streams.execution(uid)
    started = execution_machine.start(None, benchmark=1, model=2, dataset=3)
    _record(storage, stream, started)

    def agree() -> None:
        events, _ = storage.store.load(stream)
        folded = execution_machine.fold(events)
        row = storage.reads.execution(uid)
        assert folded is not None and row is not None
        assert (row["state"], row["metrics"], row["error"], row["result_id"]) == (
            folded.state.value, folded.metrics, folded.error, folded.result_id)

    agree()
    _record(storage, stream, execution_machine.fail(execution_machine.fold([started]), error="boom"))
    agree()
    _record(storage, stream, started)  # run again: the failure is forgotten
    agree()
    events, _ = storage.store.load(stream)
    _record(storage, stream, execution_machine.finish(execution_machine.fold(events), metrics={"auc": 0.9},
                                                      duration_s=1.0))
    agree()
    events, _ = storage.store.load(stream)
    _record(storage, stream, execution_machine.submit(execution_machine.fold(events), result_id=7, owner=3))
    agree()
    storage.store.recorder.close()
