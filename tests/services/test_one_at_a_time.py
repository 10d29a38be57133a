"""Two commands at once on one dataset: the second is refused naming the first; a killed holder frees it.
And the container timeout: generous by default, `none` allowed explicitly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import attrs
import pytest
from _owner_world import World
from test_data_owner import submit

from medperf_core.cli.main import run as medperf
from medperf_core.errors import ConflictError
from medperf_core.profiles import Profile, ProfileStore
from medperf_core.services import datasets
from medperf_core.services.tasks import DEFAULT_TIMEOUT_S, task_timeout


def hold(storage: str, name: str) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from medperf_core.locks import command_lock\n"
        f"with command_lock(Path({storage!r}), {name!r}, 'x'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_command_on_a_dataset_is_refused_naming_the_first(world: World) -> None:
    dataset = submit(world)
    other = hold(str(world.client.storage), datasets.stream(dataset))
    try:
        with pytest.raises(ConflictError, match=f"dataset {dataset} is in use by process {other.pid}") as info:
            datasets.prepare(world.client, dataset, say=lambda _: None)
        assert info.value.hint and "wait" in info.value.hint
        assert world.runner.calls == [] and world.events(datasets.stream(dataset)) == ["dataset.registered"]
    finally:
        other.send_signal(signal.SIGKILL)  # the kernel releases its lock: no stale lock file to delete
        other.wait()
    datasets.prepare(world.client, dataset, say=lambda _: None)
    assert world.runner.calls == ["prepare", "sanity_check", "statistics"]


def test_other_datasets_are_not_blocked(world: World) -> None:
    dataset = submit(world)
    other = hold(str(world.client.storage), datasets.stream(dataset + 1))
    try:
        datasets.prepare(world.client, dataset, say=lambda _: None)
    finally:
        other.kill()
        other.wait()


def test_the_container_timeout_is_generous_by_default_and_none_is_explicit() -> None:
    profile = Profile(name="p")
    assert task_timeout(profile) == DEFAULT_TIMEOUT_S
    assert task_timeout(attrs.evolve(profile, container_timeout=60.0)) == 60.0
    assert medperf(["profile", "set", "--container-timeout", "none"]) == 0
    assert ProfileStore().active().container_timeout == 0.0
    assert task_timeout(ProfileStore().active()) is None
    assert medperf(["profile", "set", "--container-timeout", "-3"]) != 0
    assert os.environ.get("MEDPERF_HOME")
