"""Nothing lost between client and server: intents before requests, reconciliation (`sync`), offline work.

A kill at "the instant the server commits" is simulated here by failing the local append that records the answer
(tests/e2e/test_crash_trials.py kills real processes); what follows must complete the write exactly once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from _owner_world import World
from test_data_owner import associated, operational, prepared, run, submit

from medperf_core.backends.local import LocalBackend
from medperf_core.domain.executions import result_uid
from medperf_core.errors import AlreadyDone, ConflictError
from medperf_core.services import associations, datasets, execution, outbox, results, sync
from medperf_core.services.client import Client


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even `except Exception`)."""


@contextmanager
def killed_after_the_server_answers(client: Client) -> Iterator[None]:
    """The next `request.done` append dies: the server has committed, the local log has not."""
    original = client.store.append_all

    def dying(appends: Any, actor: str) -> Any:
        if any(e.type == "request.done" for a in appends for e in a.events):
            raise Killed
        return original(appends, actor)

    client.store.append_all = dying  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            yield
    finally:
        client.store.append_all = original  # type: ignore[method-assign]


def fresh(world: World, **kw: Any) -> Client:
    """The next command: a new client on the same profile (and runner)."""
    client = Client(world.client.profile, **kw)
    client.runner = world.runner
    return client


def test_submit_killed_after_the_server_committed_completes_on_the_next_command(world: World) -> None:
    with killed_after_the_server_answers(world.client):
        submit(world)
    (on_server,) = world.client.backend.list_my_datasets()
    assert world.client.local.dataset(on_server["id"]) is None
    assert [r["operation"] for r in world.client.local.requests("pending")] == ["dataset.create"]

    with fresh(world) as client:  # any command: here the same one again
        client.flush_pending()
        assert client.local.dataset(on_server["id"])["data_path"] == str(world.data)
        assert client.local.requests("pending") == []
        assert len(client.backend.list_my_datasets()) == 1
        # the same command's request, sent again: the earlier attempt had gone through, and the command says so
        with pytest.raises(AlreadyDone, match="the earlier attempt had already gone through: dataset registered"):
            datasets.plan_submission(
                client, name="mydata", description="", location="", data_path=world.data, labels_path=world.labels,
                benchmark=world.benchmark, data_prep=None,
            )
        datasets.prepare(client, on_server["id"], say=lambda _: None)  # no dead end


def test_associate_killed_after_the_server_committed_is_recorded_by_sync(world: World) -> None:
    dataset = operational(world)
    outcome = associations.compatibility_test(world.client, world.benchmark, dataset, say=lambda _: None)
    with killed_after_the_server_answers(world.client):
        associations.request(world.client, world.benchmark, dataset, outcome)
    with fresh(world, flush=False) as client:
        report = sync.sync(client)
        assert report.sent and report.still_pending == 0
        rows = [a for a in client.local.associations() if a["entity"] == dataset]
        assert [r["status"] for r in rows] == ["PENDING"]
    assert len(world.backends["bo"].list_benchmark_dataset_associations(world.benchmark)) == 1


def test_set_operational_killed_after_the_server_committed_is_made_once(world: World) -> None:
    """The PUT carries the pending request's key: the server recorded it with the change, so the retry by the next
    command is answered from the key (nothing appended on the server) and the local log catches up."""
    dataset = prepared(world)
    server = world.backends["bo"]
    assert isinstance(server, LocalBackend)

    def on_server() -> list[tuple[str, str]]:
        return [(s.type, str(s.payload.get("key", ""))) for s in server.services.store.read_all()]

    with killed_after_the_server_answers(world.client):
        datasets.set_operational(world.client, dataset, datasets.plan_operational(world.client, dataset))
    (pending,) = world.client.local.requests("pending")
    assert pending["operation"] == "dataset.operational"
    after_the_crash = on_server()
    assert after_the_crash[-2:] == [("dataset.marked_operational", ""),
                                    ("request.idempotency_key_recorded", pending["key"])]
    assert world.client.backend.get_dataset(dataset)["state"] == "OPERATION"
    assert world.client.local.dataset(dataset)["state"] == "prepared"

    with fresh(world) as client:  # the next command sends it again, with the same key
        client.flush_pending()
        assert client.local.requests("pending") == []
        assert client.local.dataset(dataset)["state"] == "operational"
    assert on_server() == after_the_crash


def test_result_submit_killed_after_the_server_committed_is_not_sent_twice(world: World) -> None:
    dataset = associated(world)
    uid = run(world, dataset)[world.model].uid
    body = results.plan_submission(world.client, uid)
    with killed_after_the_server_answers(world.client):
        results.submit(world.client, uid, body)
    assert results.get_local(world.client, uid)["state"] == "finished"
    with fresh(world) as client, pytest.raises(AlreadyDone, match=f"gone through: result {uid} submitted"):
        results.plan_submission(client, uid)  # re-running the command first finishes the pending request
    assert results.get_local(world.client, uid)["state"] == "submitted"
    assert len(world.backends["bo"].list_benchmark_results(world.benchmark)) == 1


def test_rerunning_a_finished_prepare_appends_and_sends_nothing(world: World) -> None:
    dataset = prepared(world)
    before = len(world.all_types())
    report = world.client.backend.get_dataset(dataset)["report"]
    world.runner.calls.clear()
    with fresh(world, offline=True) as client:  # offline: any request would fail
        out = datasets.prepare(client, dataset, say=lambda _: None)
    assert out["statistics"] == {"n_cases": 3} and world.runner.calls == []
    assert len(world.all_types()) == before
    assert world.client.backend.get_dataset(dataset)["report"] == report


def test_offline_run_and_submit_wait_for_sync(world: World) -> None:
    dataset = associated(world)
    sync.sync(world.client)  # online once after the approval: the decision and the models are known here
    with fresh(world, offline=True) as client:
        outcomes = {o.model: o for o in execution.run_benchmark(client, world.benchmark, dataset, say=lambda _: None)}
        uid = outcomes[world.model].uid
        body = results.plan_submission(client, uid)
        with pytest.raises(outbox.Pending, match="offline"):
            results.submit(client, uid, body)
        with pytest.raises(ConflictError, match="waits to be sent"):
            results.plan_submission(client, uid)
    assert world.backends["bo"].list_benchmark_results(world.benchmark) == []
    with fresh(world, flush=False) as client:
        report = sync.sync(client)
        assert len(report.sent) == 1 and "result" in report.sent[0]
        assert results.get_local(client, uid)["state"] == "submitted"
    assert len(world.backends["bo"].list_benchmark_results(world.benchmark)) == 1


def test_offline_prepare_works_from_what_was_read_online(world: World) -> None:
    dataset = submit(world)
    with fresh(world, offline=True) as client:
        out = datasets.prepare(client, dataset, say=lambda _: None)
    assert out["statistics"] == {"n_cases": 3}
    assert datasets.local_dataset(world.client, dataset)["state"] == "prepared"


def test_a_lost_home_is_rebuilt_by_sync_and_the_data_re_prepared(world: World) -> None:
    dataset = associated(world)
    uid = run(world, dataset)[world.model].uid
    results.submit(world.client, uid, results.plan_submission(world.client, uid))
    world.client.close()
    shutil.rmtree(world.client.storage)  # the home is lost; the raw data and the server remain

    with fresh(world, flush=False) as client:
        report = sync.sync(client)
        assert any(f"dataset {dataset}" in line for line in report.recorded)
        assert any("association" in line for line in report.recorded)
        assert client.local.dataset(dataset)["state"] == "registered"
        actors = {s.actor for s in client.store.read_all()}
        assert actors == {sync.sync_actor(client)}
        # The same data again: recognised, its paths recorded, nothing new on the server.
        plan = datasets.plan_submission(
            client, name="again", description="", location="", data_path=world.data, labels_path=world.labels,
            benchmark=world.benchmark, data_prep=None,
        )
        assert datasets.submit(client, plan)["id"] == dataset
        datasets.prepare(client, dataset, say=lambda _: None)
        datasets.set_operational(client, dataset, datasets.plan_operational(client, dataset))
        assert client.local.dataset(dataset)["state"] == "operational"
        again = sync.sync(client)
        assert again.recorded == [] and again.sent == []
    assert len(world.backends["bo"].list_benchmark_results(world.benchmark)) == 1
    assert result_uid(world.benchmark, world.model, dataset) == uid


def test_offline_result_submit_on_the_command_line_is_queued(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from medperf_core.cli.main import run as medperf

    dataset = associated(world)
    uid = run(world, dataset)[world.model].uid
    world.client.close()
    assert medperf(["--offline", "result", "submit", "--result", uid, "-y"]) == 0
    assert "⏳ offline: the result" in capsys.readouterr().out
    assert world.backends["bo"].list_benchmark_results(world.benchmark) == []
    assert medperf(["sync"]) == 0
    assert "✅ sent: result" in capsys.readouterr().out
    assert len(world.backends["bo"].list_benchmark_results(world.benchmark)) == 1
