"""A command killed after the server committed its request, run again: the re-run sends the request left pending
(the server answers with what it committed), sees it was its own, says the earlier attempt had gone through and
exits 0. The kill is reproduced exactly: the request recorded as pending, then sent with its key, and nothing more.

The data owner's world of tests/services (local backend, fake runner); through Docker, a real server and a real
SIGKILL at the commit: tests/e2e/test_rerun_after_commit_kill.py."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from _owner_world import World, world
from test_data_owner import operational, prepared, submit

from medperf_core.cli.main import run
from medperf_core.domain import events as ev
from medperf_core.domain.streams import request as request_stream
from medperf_core.services import associations, datasets, execution, results

__all__ = ["world"]  # the fixture


def killed_at_commit(world: World, operation: str, body: dict[str, Any], context: dict[str, Any],
                     send: Callable[[str], object]) -> None:
    """What a command killed between the server's commit and its own record of the answer leaves behind."""
    key = str(uuid.uuid4())
    pending = ev.RequestPending(key=key, operation=operation, body=body, context={**context, "by": world.client.actor})
    world.client.record(request_stream(key), 0, pending)
    send(key)


def rerun(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def check(capsys: pytest.CaptureFixture[str], said: str, *args: str) -> None:
    code, out, err = rerun(capsys, *args)
    assert (code, out) == (0, f"✅ The earlier attempt had already gone through: {said}\n"), err
    assert "sent: " in err and "❌" not in err, err


def test_dataset_submit(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    plan = datasets.plan_submission(world.client, name="mydata", description="", location="", data_path=world.data,
                                    labels_path=world.labels, benchmark=world.benchmark, data_prep=None)
    context = {k: plan[k] for k in ("benchmark", "data_path", "labels_path")}
    killed_at_commit(world, "dataset.create", plan["body"], context,
                     lambda key: world.client.backend.create_dataset(plan["body"], key))
    check(capsys, "dataset registered with UID 1 (next: medperf dataset prepare --data_uid 1)",
          "dataset", "submit", "--name", "mydata", "--data_path", str(world.data), "--labels_path",
          str(world.labels), "--benchmark", str(world.benchmark), "-y")


def test_dataset_set_operational(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = prepared(world)
    body = datasets.plan_operational(world.client, dataset)
    killed_at_commit(world, "dataset.operational", body, {"dataset": dataset},
                     lambda key: world.client.backend.update_dataset(dataset, body, key))
    check(capsys, f"dataset {dataset} is operational", "dataset", "set_operational", "--data_uid", str(dataset), "-y")


def test_dataset_associate(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    dataset, b = operational(world), world.benchmark
    outcome = associations.compatibility_test(world.client, b, dataset, say=lambda _: None)
    body = {"dataset": dataset, "benchmark": b, "metadata": {"test_result": outcome.metrics},
            "approval_status": "PENDING"}
    killed_at_commit(world, "association.request", body, {"dataset": dataset, "benchmark": b},
                     lambda key: world.client.backend.request_dataset_association(body, key))
    check(capsys, f"association of dataset {dataset} with benchmark {b} requested (status PENDING)",
          "dataset", "associate", "--benchmark_uid", str(b), "--data_uid", str(dataset), "-y")


def test_result_submit(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = operational(world)
    outcome = associations.compatibility_test(world.client, world.benchmark, dataset, say=lambda _: None)
    associations.request(world.client, world.benchmark, dataset, outcome)
    world.backends["bo"].decide_dataset_association(dataset, world.benchmark, {"approval_status": "APPROVED"})
    (ran,) = [o for o in execution.run_benchmark(world.client, world.benchmark, dataset, say=lambda _: None)
              if o.model == world.model]
    body = results.plan_submission(world.client, ran.uid)
    killed_at_commit(world, "result.submit", body, {"uid": ran.uid},
                     lambda key: world.client.backend.submit_result(body, key))
    check(capsys, f"result {ran.uid} submitted (server UID 1)", "result", "submit", "--result", ran.uid, "-y")


def test_without_a_kill_already_done_is_still_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the request this command itself left pending counts: a step finished long ago is not 'gone through'."""
    dataset = submit(world)
    code, _, err = rerun(capsys, "dataset", "submit", "--name", "mydata", "--data_path", str(world.data),
                         "--labels_path", str(world.labels), "--benchmark", str(world.benchmark), "-y")
    assert code == 4 and f"already registered as dataset {dataset}" in err, err
