"""The data owner's use cases through the services, on the `local` backend with the fake runner (no containers).

Each test checks what can be observed: the client's event log, its local read model (the services' own lookups),
what the server holds (seen by the other roles through their backends), and what the runner was asked to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _owner_world import World

from medperf_core.domain import streams
from medperf_core.domain.associations import stream_name
from medperf_core.domain.events import DatasetRegistered
from medperf_core.domain.executions import result_uid
from medperf_core.errors import ConflictError, ContainerFailedError, InvalidTransitionError
from medperf_core.services import associations, datasets, execution, results
from medperf_core.services.hashing import folders_hash

REF_ACCURACY = {"accuracy": 1.0}  # threshold 0.5 on cases 0.2, 0.9, 0.4 labelled 0, 1, 0
MODEL_ACCURACY = {"accuracy": 0.6667}  # threshold 0.3 calls case 3 positive


def submit(world: World, name: str = "mydata") -> int:
    plan = datasets.plan_submission(
        world.client, name=name, description="three cases", location="here", data_path=world.data,
        labels_path=world.labels, benchmark=world.benchmark, data_prep=None,
    )
    return int(datasets.submit(world.client, plan)["id"])


def prepared(world: World) -> int:
    dataset = submit(world)
    datasets.prepare(world.client, dataset, say=lambda _: None)
    return dataset


def operational(world: World) -> int:
    dataset = prepared(world)
    datasets.set_operational(world.client, dataset, datasets.plan_operational(world.client, dataset))
    return dataset


def associated(world: World, *, approve: bool = True) -> int:
    dataset = operational(world)
    outcome = associations.compatibility_test(world.client, world.benchmark, dataset, say=lambda _: None)
    associations.request(world.client, world.benchmark, dataset, outcome)
    if approve:
        world.backends["bo"].decide_dataset_association(dataset, world.benchmark, {"approval_status": "APPROVED"})
    return dataset


def run(world: World, dataset: int, **options: Any) -> dict[int, execution.ModelOutcome]:
    outcomes = execution.run_benchmark(world.client, world.benchmark, dataset, say=lambda _: None, **options)
    return {o.model: o for o in outcomes}


# --- submit ---------------------------------------------------------------------------------------------------


def test_submit_registers_on_the_server_and_keeps_the_paths_local(world: World) -> None:
    dataset = submit(world)
    on_server = world.client.backend.get_dataset(dataset)
    expected_hash = folders_hash([world.data, world.labels])
    assert on_server["input_data_hash"] == expected_hash and on_server["state"] == "DEVELOPMENT"
    assert on_server["data_preparation_mlcube"] == world.prep
    assert str(world.data) not in str(on_server) and str(world.labels) not in str(on_server)

    assert world.events(streams.dataset(dataset)) == ["dataset.registered"]
    registered = world.last(streams.dataset(dataset))
    assert isinstance(registered, DatasetRegistered)
    assert registered.data_path == str(world.data) and registered.benchmark == world.benchmark
    local = datasets.local_dataset(world.client, dataset)
    assert local["state"] == "registered" and local["steps_done"] == [] and local["input_data_hash"] == expected_hash
    assert world.runner.calls == []


def test_the_same_data_cannot_be_submitted_twice(world: World) -> None:
    dataset = submit(world)
    with pytest.raises(ConflictError, match=f"already registered as dataset {dataset}"):
        submit(world, name="again")
    assert [d["id"] for d in world.client.backend.list_my_datasets()] == [dataset]


# --- prepare --------------------------------------------------------------------------------------------------


def test_prepare_runs_the_three_steps_and_records_the_statistics(world: World) -> None:
    dataset = submit(world)
    messages: list[str] = []
    out = datasets.prepare(world.client, dataset, say=messages.append)

    assert world.runner.calls == ["prepare", "sanity_check", "statistics"]
    assert out["statistics"] == {"n_cases": 3}
    folder = Path(out["folder"])
    assert out["generated_uid"] == folders_hash([folder / "data", folder / "labels"])
    assert world.events(streams.dataset(dataset)) == [
        "dataset.registered", "dataset.report_updated", "dataset.preparation_step_finished",
        "dataset.preparation_step_finished", "dataset.preparation_step_finished", "dataset.prepared",
        "dataset.report_updated",
    ]
    local = datasets.local_dataset(world.client, dataset)
    assert local["state"] == "prepared" and local["statistics"] == {"n_cases": 3}
    assert local["steps_done"] == ["prepare", "sanity_check", "statistics"]
    assert world.client.backend.get_dataset(dataset)["report"] == {"execution_status": "finished"}
    assert [m.split(":")[0] for m in messages if m.endswith("…")] == ["[1/3] prepare", "[2/3] sanity_check",
                                                                      "[3/3] statistics"]


def test_a_failed_step_is_resumed_from_that_step(world: World) -> None:
    dataset = submit(world)
    world.runner.failing = {"sanity_check"}
    with pytest.raises(ContainerFailedError, match="failed at step sanity_check") as failed:
        datasets.prepare(world.client, dataset, say=lambda _: None)
    assert "--data_uid" in (failed.value.hint or "")
    assert world.runner.calls == ["prepare", "sanity_check"]
    assert world.events(streams.dataset(dataset))[-2:] == ["dataset.preparation_failed", "dataset.report_updated"]
    local = datasets.local_dataset(world.client, dataset)
    assert local["state"] == "registered" and local["steps_done"] == ["prepare"]
    assert local["last_error"].startswith("sanity_check:")
    assert world.client.backend.get_dataset(dataset)["report"] == {"execution_status": "failed"}

    world.runner.failing = set()
    messages: list[str] = []
    datasets.prepare(world.client, dataset, say=messages.append)
    assert world.runner.calls == ["prepare", "sanity_check", "sanity_check", "statistics"]
    assert "[1/3] prepare: already done, skipped" in messages
    local = datasets.local_dataset(world.client, dataset)
    assert local["state"] == "prepared" and local["last_error"] == ""
    assert world.events(streams.dataset(dataset)).count("dataset.prepared") == 1


def test_force_prepares_again_from_the_first_step(world: World) -> None:
    dataset = prepared(world)
    datasets.prepare(world.client, dataset, force=True, say=lambda _: None)
    assert world.runner.calls == ["prepare", "sanity_check", "statistics"] * 2


# --- set_operational ------------------------------------------------------------------------------------------


def test_set_operational_needs_a_prepared_dataset(world: World) -> None:
    dataset = submit(world)
    with pytest.raises(InvalidTransitionError, match="not prepared"):
        datasets.plan_operational(world.client, dataset)


def test_set_operational_sends_the_statistics_and_freezes_the_dataset(world: World) -> None:
    dataset = prepared(world)
    local = datasets.local_dataset(world.client, dataset)
    body = datasets.plan_operational(world.client, dataset)
    assert body == {"input_data_hash": local["input_data_hash"], "generated_uid": local["generated_uid"],
                    "generated_metadata": {"n_cases": 3}, "state": "OPERATION"}
    datasets.set_operational(world.client, dataset, body)

    on_server = world.client.backend.get_dataset(dataset)
    assert on_server["state"] == "OPERATION" and on_server["generated_uid"] == local["generated_uid"]
    assert on_server["generated_metadata"] == {"n_cases": 3}
    assert world.events(streams.dataset(dataset))[-1] == "dataset.marked_operational"
    assert datasets.local_dataset(world.client, dataset)["state"] == "operational"
    with pytest.raises(InvalidTransitionError, match="already operational"):
        datasets.plan_operational(world.client, dataset)
    with pytest.raises(InvalidTransitionError, match="operational"):
        datasets.prepare(world.client, dataset, say=lambda _: None)


# --- associate ------------------------------------------------------------------------------------------------


def test_associate_runs_the_reference_model_and_requests_approval(world: World) -> None:
    dataset = operational(world)
    outcome = associations.compatibility_test(world.client, world.benchmark, dataset, say=lambda _: None)
    assert outcome.model == world.reference and outcome.metrics == REF_ACCURACY and not outcome.from_cache
    assert world.runner.calls[-2:] == ["infer reference", "evaluate"]
    created = associations.request(world.client, world.benchmark, dataset, outcome)
    assert created["approval_status"] == "PENDING"

    (row,) = world.backends["bo"].list_benchmark_dataset_associations(world.benchmark)
    assert row["dataset"] == dataset and row["approval_status"] == "PENDING"
    assert row["metadata"] == {"test_result": REF_ACCURACY}
    stream = stream_name("dataset", world.benchmark, dataset)
    assert world.events(stream) == ["association.requested"]

    with pytest.raises(InvalidTransitionError, match="pending"):
        execution.run_benchmark(world.client, world.benchmark, dataset, say=lambda _: None)

    world.backends["bo"].decide_dataset_association(dataset, world.benchmark, {"approval_status": "APPROVED"})
    (mine,) = associations.list_mine(world.client)
    assert mine["approval_status"] == "APPROVED"
    assert world.events(stream) == ["association.requested", "association.approved"]


def test_associate_needs_an_operational_dataset(world: World) -> None:
    dataset = prepared(world)
    with pytest.raises(InvalidTransitionError, match="not operational") as refused:
        associations.compatibility_test(world.client, world.benchmark, dataset, say=lambda _: None)
    assert "medperf dataset set_operational" in (refused.value.hint or "")
    assert world.runner.calls == ["prepare", "sanity_check", "statistics"]


# --- run ------------------------------------------------------------------------------------------------------


def test_run_uses_the_compatibility_test_and_caches_each_model(world: World) -> None:
    dataset = associated(world)
    calls_before = len(world.runner.calls)
    first = run(world, dataset)
    assert sorted(first) == [world.reference, world.model]
    assert first[world.reference].from_cache and first[world.reference].metrics == REF_ACCURACY
    assert not first[world.model].from_cache and first[world.model].metrics == MODEL_ACCURACY
    assert world.runner.calls[calls_before:] == ["infer model", "evaluate"]

    second = run(world, dataset)
    assert all(o.from_cache for o in second.values())
    assert len(world.runner.calls) == calls_before + 2

    uid = first[world.model].uid
    assert world.events(streams.execution(uid)) == ["execution.started", "execution.finished"]
    local = results.get_local(world.client, uid)
    assert local["state"] == "finished" and local["metrics"] == MODEL_ACCURACY


def test_no_cache_runs_every_model_again(world: World) -> None:
    dataset = associated(world)
    run(world, dataset)
    calls_before = len(world.runner.calls)
    again = run(world, dataset, no_cache=True)
    assert not any(o.from_cache for o in again.values())
    assert sorted(world.runner.calls[calls_before:]) == sorted(
        ["infer reference", "evaluate", "infer model", "evaluate"]
    )
    assert world.events(streams.execution(again[world.model].uid)) == ["execution.started", "execution.finished"] * 2


def test_a_failing_model_stops_the_run_unless_errors_are_ignored(world: World) -> None:
    dataset = associated(world)
    broken = world.register_model("fake/broken:1", {"name": "broken", "fail": "weights file missing"})

    with pytest.raises(ContainerFailedError, match="weights file missing"):
        run(world, dataset)
    broken_uid = result_uid(world.benchmark, broken, dataset)
    assert world.events(streams.execution(broken_uid)) == ["execution.started", "execution.failed"]

    outcomes = run(world, dataset, ignore_model_errors=True)
    assert sorted(outcomes) == sorted([world.reference, world.model, broken])
    assert "weights file missing" in outcomes[broken].error and outcomes[broken].metrics == {}
    assert outcomes[world.model].metrics == MODEL_ACCURACY and not outcomes[world.model].error
    assert world.events(streams.execution(broken_uid)) == ["execution.started", "execution.failed"] * 2
    assert results.get_local(world.client, broken_uid)["state"] == "failed"


def test_unapproved_models_are_not_run(world: World) -> None:
    dataset = associated(world)
    pending = world.register_model("fake/pending:1", {"name": "pending", "threshold": 0.1}, approve=False)
    assert pending not in run(world, dataset)
    with pytest.raises(InvalidTransitionError, match="not approved"):
        run(world, dataset, models=[pending])


# --- result submit --------------------------------------------------------------------------------------------


def test_submit_sends_the_metrics_once(world: World) -> None:
    dataset = associated(world)
    uid = run(world, dataset)[world.model].uid
    body = results.plan_submission(world.client, uid)
    assert body["results"] == MODEL_ACCURACY and body["model"] == world.model and body["dataset"] == dataset
    assert str(world.data) not in str(body)
    created = results.submit(world.client, uid, body)

    server_results = world.backends["bo"].list_benchmark_results(world.benchmark)
    (on_server,) = [r for r in server_results if r["model"] == world.model]
    assert on_server["id"] == created["id"] and on_server["results"] == MODEL_ACCURACY
    assert on_server["dataset"] == dataset
    assert world.events(streams.execution(uid))[-1] == "result.submitted"
    local = results.get_local(world.client, uid)
    assert local["state"] == "submitted" and local["result_id"] == created["id"]

    with pytest.raises(ConflictError, match="already submitted"):
        results.plan_submission(world.client, uid)
    kept = run(world, dataset, no_cache=True)[world.model]
    assert kept.from_cache and kept.metrics == MODEL_ACCURACY
    assert len(world.backends["bo"].list_benchmark_results(world.benchmark)) == 1


def test_an_unfinished_result_cannot_be_submitted(world: World) -> None:
    dataset = associated(world)
    broken = world.register_model("fake/broken:1", {"name": "broken", "fail": "out of memory"})
    run(world, dataset, ignore_model_errors=True)
    with pytest.raises(InvalidTransitionError, match="only finished results"):
        results.plan_submission(world.client, result_uid(world.benchmark, broken, dataset))
    assert world.backends["bo"].list_benchmark_results(world.benchmark) == []


def test_the_whole_log_is_in_order(world: World) -> None:
    dataset = associated(world)
    uid = run(world, dataset)[world.model].uid
    results.submit(world.client, uid, results.plan_submission(world.client, uid))
    types = world.all_types()
    order = ["dataset.registered", "dataset.prepared", "dataset.marked_operational", "association.requested",
             "association.approved", "result.submitted"]
    assert [t for t in types if t in order] == order
