"""The site's policy keeps refused containers from running on the site's data, and says so (fake runner)."""

from __future__ import annotations

import pytest
from _owner_world import World
from test_data_owner import associated, operational, run, submit

from medperf_core.domain import streams
from medperf_core.domain.policy import Rule, SitePolicy
from medperf_core.errors import PolicyRefusedError
from medperf_core.services import associations, datasets, execution, policy


def digest_of(world: World, container: int) -> str:
    return str(world.client.backend.get_container(container)["image_hash"])


def refusals(world: World) -> list[dict[str, object]]:
    events, _ = world.client.store.load(streams.site_policy())
    return [e.to_payload() for e in events if e.type == "policy.container_refused"]


def test_a_run_skips_the_model_the_policy_refuses_and_runs_the_others(world: World) -> None:
    dataset = associated(world)
    policy.save(world.client, SitePolicy(deny=(Rule("digest", digest_of(world, world.model)),)), "test")
    calls_before = len(world.runner.calls)

    outcomes = run(world, dataset, no_cache=True)

    assert outcomes[world.model].refused and "deny digest" in outcomes[world.model].error
    assert outcomes[world.reference].metrics and not outcomes[world.reference].error
    assert "infer model" not in world.runner.calls[calls_before:]  # never started
    assert world.runner.calls[calls_before:] == ["infer reference", "evaluate"]
    assert [(r["container"], r["dataset"]) for r in refusals(world)] == [(world.model, dataset)]
    uid = outcomes[world.model].uid
    assert world.events(streams.execution(uid)) == []  # no execution was started for it


def test_the_dry_run_lists_what_would_run_and_what_is_refused(world: World) -> None:
    associated(world)  # a dataset ready to run, as `benchmark run --dry-run` is used
    policy.save(world.client, SitePolicy(default="deny", allow=(Rule("benchmark", str(world.benchmark)),),
                                         deny=(Rule("container", str(world.model)),)), "test")
    calls_before = len(world.runner.calls)
    planned = {p.container: p.allowed for p in execution.plan_run(world.client, world.benchmark)}
    assert planned[world.model] is False and planned[world.reference] is True
    assert len(world.runner.calls) == calls_before


def test_preparation_refused_by_the_policy_runs_nothing(world: World) -> None:
    dataset = submit(world)
    policy.save(world.client, SitePolicy(default="deny"), "test")
    with pytest.raises(PolicyRefusedError, match=f"container {world.prep}") as refused:
        datasets.prepare(world.client, dataset, say=lambda _: None)
    assert "medperf policy allow --digest" in (refused.value.hint or "")
    assert world.runner.calls == []
    assert datasets.local_dataset(world.client, dataset)["state"] == "registered"


def test_the_compatibility_test_refused_by_the_policy_runs_nothing(world: World) -> None:
    dataset = operational(world)
    policy.save(world.client, SitePolicy(deny=(Rule("container", str(world.reference)),)), "test")
    calls_before = len(world.runner.calls)
    with pytest.raises(PolicyRefusedError, match=f"container {world.reference}"):
        associations.compatibility_test(world.client, world.benchmark, dataset, say=lambda _: None)
    assert world.runner.calls[calls_before:] == []


def test_every_change_of_the_policy_is_an_event(world: World) -> None:
    first = SitePolicy(default="deny")
    policy.save(world.client, first, "default deny")
    policy.save(world.client, first.with_rule("allow", Rule("owner", "3")), "allow owner 3")
    events, _ = world.client.store.load(streams.site_policy())
    assert [(e.type, e.change) for e in events] == [  # type: ignore[attr-defined]
        ("policy.changed", "default deny"), ("policy.changed", "allow owner 3")]
    assert policy.load() == first.with_rule("allow", Rule("owner", "3"))
