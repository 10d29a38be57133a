"""The owners' writes go through intents too: `container submit`, `benchmark submit`, `container associate`,
association approve/reject/set_priority, benchmark approve/reject, `update_associations_policy`.

Each is killed at "the instant the server commits" (the local append recording the answer dies, as in
test_intents.py; tests/e2e/test_owner_crashes.py kills real processes with SIGKILL); the same command run again, or
`medperf sync`, must finish it with the server holding the write exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from _owner_world import World, _container_body, model_config
from test_intents import killed_after_the_server_answers

from medperf_core.backends.local import LOCAL_TOKEN, LocalBackend
from medperf_core.errors import ConflictError
from medperf_core.profiles import Profile
from medperf_core.services import decisions, outbox, registration, sync
from medperf_core.services.client import Client
from medperf_core.testing.server import DEMO_EMAILS


def owner(world: World, role: str, name: str | None = None, *, flush: bool = True) -> Client:
    """A command of `role` on its own machine (its own profile, so its own log), against the world's server."""
    backend = world.backends[role]
    assert isinstance(backend, LocalBackend)
    profile = Profile(name=name or role, backend="local", local_db=str(backend.data_dir), email=DEMO_EMAILS[role],
                      token=LOCAL_TOKEN)
    client = Client(profile, flush=flush)  # `medperf sync` sends what waits itself (and reports it)
    client.runner = world.runner
    return client


def server_types(world: World) -> list[str]:
    backend = world.backends["bo"]
    assert isinstance(backend, LocalBackend)
    return [s.type for s in backend.services.store.read_all()]


def new_model(world: World, name: str = "candidate") -> int:
    body = _container_body(name, model_config(f"fake/{name}:1"), {"name": name, "threshold": 0.6})
    return int(world.backends["mo"].create_container(body)["id"])


def new_benchmark(world: World, name: str = "second") -> int:
    body = {"name": name, "data_preparation_mlcube": world.prep, "reference_model_mlcube": world.reference,
            "data_evaluator_mlcube": world.prep, "demo_dataset_tarball_url": "https://example.org/d.tar.gz"}
    return int(world.backends["bo"].create_benchmark(body)["id"])


def container_plan(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    config = tmp_path / "container_config.yaml"
    config.write_text(yaml.safe_dump(model_config("fake/submitted:1")))

    def command(client: Client) -> dict[str, Any]:
        plan = registration.plan_container(client, name="submitted", config=str(config), operational=True)
        return registration.submit_container(client, plan)

    return "mo", command


def benchmark_plan(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    body = {"name": "submitted-bmk", "description": "", "docs_url": "", "demo_dataset_tarball_hash": "a" * 64,
            "demo_dataset_generated_uid": "b" * 64, "data_preparation_mlcube": world.prep,
            "reference_model_mlcube": world.reference, "data_evaluator_mlcube": world.prep,
            "state": "DEVELOPMENT", "metadata": {"results": {"accuracy": 1.0}}}
    demo = SimpleNamespace(is_url=True, source="https://example.org/demo.tar.gz")  # its compatibility test: elsewhere
    return "bo", lambda client: registration.submit_benchmark(client, {"body": body, "demo": demo})


def model_association(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    model = new_model(world)
    metadata = {"test_result": {"accuracy": 0.5}, "compatibility_test": "t1"}
    return "mo", lambda client: registration.request_model_association(client, world.benchmark, model, metadata)


def approval(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    model = new_model(world)
    world.backends["mo"].request_model_association(
        {"model_mlcube": model, "benchmark": world.benchmark, "metadata": {}})
    return "bo", lambda client: decisions.decide_association(client, "model", world.benchmark, model, "APPROVED")


def rejection(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    model = new_model(world)
    world.backends["mo"].request_model_association(
        {"model_mlcube": model, "benchmark": world.benchmark, "metadata": {}})
    return "bo", lambda client: decisions.decide_association(client, "model", world.benchmark, model, "REJECTED")


def priority(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    return "bo", lambda client: decisions.set_priority(client, world.benchmark, world.model, 7)


def benchmark_approval(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    benchmark = new_benchmark(world)
    return "admin", lambda client: decisions.decide_benchmark(client, benchmark, "APPROVED")


def policy(world: World, tmp_path: Path) -> tuple[str, Callable[[Client], dict[str, Any]]]:
    body = {"dataset_auto_approval_mode": "ALLOWLIST", "dataset_auto_approval_allow_list": [DEMO_EMAILS["do"]]}
    return "bo", lambda client: decisions.set_policy(client, world.benchmark, body)


# command → the server event it must add exactly once
CASES: dict[str, tuple[Callable[[World, Path], tuple[str, Callable[[Client], dict[str, Any]]]], str]] = {
    "container submit": (container_plan, "container.registered"),
    "benchmark submit": (benchmark_plan, "benchmark.registered"),
    "container associate": (model_association, "association.requested"),
    "association approve": (approval, "association.approved"),
    "association reject": (rejection, "association.rejected"),
    "association set_priority": (priority, "association.priority_set"),
    "benchmark approve": (benchmark_approval, "benchmark.approved"),
    "update_associations_policy": (policy, "benchmark.association_policy_changed"),
}


@pytest.mark.parametrize("finish", ["re-run", "sync"])
@pytest.mark.parametrize("case", list(CASES))
def test_an_owner_write_killed_after_the_server_committed_is_made_once(
    world: World, tmp_path: Path, case: str, finish: str
) -> None:
    setup, event = CASES[case]
    role, command = setup(world, tmp_path)
    before = server_types(world).count(event)
    with owner(world, role) as client, killed_after_the_server_answers(client):
        command(client)
    assert server_types(world).count(event) == before + 1  # the server committed
    with owner(world, role, flush=finish == "re-run") as client:
        (waiting,) = outbox.pending(client)
        if finish == "re-run":
            answer = command(client)
        else:
            report = sync.sync(client, say=lambda _: None)
            assert report.still_pending == 0 and len(report.sent) == 1, report
            answer = client.local.requests("done")[-1]["answer"]
        assert outbox.pending(client) == []
        done = [r for r in client.local.requests("done") if r["key"] == waiting["key"]]
        assert done and done[0]["answer"].get("id") == answer.get("id")
    assert server_types(world).count(event) == before + 1  # and only once


def test_a_repeated_key_answers_as_the_first_request_did(world: World) -> None:
    bo = world.backends["bo"]
    assert bo.decide_model_association(world.model, world.benchmark, {"priority": 5}, key="k-1")["priority"] == 5
    assert bo.decide_model_association(world.model, world.benchmark, {"priority": 6}, key="k-2")["priority"] == 6
    # a late retry of the first:
    again = bo.decide_model_association(world.model, world.benchmark, {"priority": 5}, key="k-1")
    assert again["priority"] == 6  # the change was not made a second time
    assert server_types(world).count("association.priority_set") == 2
    with pytest.raises(ConflictError, match="already used for a different request"):
        bo.decide_model_association(world.model, world.benchmark, {"priority": 9}, key="k-1")


def test_a_pending_request_waits_for_the_user_who_made_it(world: World) -> None:
    _role, command = priority(world, Path())
    with owner(world, "bo", name="shared") as client, killed_after_the_server_answers(client):
        command(client)
    admin = owner(world, "admin", name="shared", flush=False)  # the same machine, now logged in as someone else
    with admin:
        report = sync.sync(admin, say=lambda _: None)
        assert report.still_pending == 1 and "waits for testbo" in " ".join(report.notes), report
    with owner(world, "bo", name="shared", flush=False) as client:
        assert sync.sync(client, say=lambda _: None).still_pending == 0
