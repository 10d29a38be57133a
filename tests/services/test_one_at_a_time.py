"""Two commands at once on one dataset: the second is refused naming the first; a killed holder frees it.
And the container timeout: generous by default, `none` allowed explicitly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from _owner_world import World
from test_data_owner import prepared, submit

from medperf_core import locks
from medperf_core.cli.main import run as medperf
from medperf_core.domain import streams
from medperf_core.errors import ConflictError
from medperf_core.profiles import Profile, ProfileStore
from medperf_core.services import dataset_check, dataset_transfer, datasets, storage
from medperf_core.services.client import Client
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
    other = hold(str(world.client.storage), streams.dataset(dataset))
    try:
        with pytest.raises(ConflictError, match=f"dataset {dataset} is in use by process {other.pid}") as info:
            datasets.prepare(world.client, dataset, say=lambda _: None)
        assert info.value.hint and "wait" in info.value.hint
        assert world.runner.calls == [] and world.events(streams.dataset(dataset)) == ["dataset.registered"]
    finally:
        other.send_signal(signal.SIGKILL)  # the kernel releases its lock: no stale lock file to delete
        other.wait()
    datasets.prepare(world.client, dataset, say=lambda _: None)
    assert world.runner.calls == ["prepare", "sanity_check", "statistics"]


def test_other_datasets_are_not_blocked(world: World) -> None:
    dataset = submit(world)
    other = hold(str(world.client.storage), streams.dataset(dataset + 1))
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


def test_check_export_and_import_are_refused_while_another_process_holds_the_dataset(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = prepared(world)
    archive = tmp_path / "moving.tar"
    other = hold(str(world.client.storage), streams.dataset(dataset))
    try:
        before = world.events(streams.dataset(dataset))
        with pytest.raises(ConflictError, match=f"dataset {dataset} is in use by process {other.pid}"):
            dataset_check.check(world.client, dataset)
        with pytest.raises(ConflictError, match=f"dataset {dataset} is in use by process {other.pid}"):
            dataset_transfer.export(world.client, dataset, archive)
        assert not archive.exists() and world.events(streams.dataset(dataset)) == before
    finally:
        other.kill()
        other.wait()
    dataset_transfer.export(world.client, dataset, archive)

    # the new machine: an import while another process holds that dataset there adopts nothing
    monkeypatch.setenv("MEDPERF_HOME", str(tmp_path / "new-home"))
    profiles = ProfileStore()
    profiles.save(attrs.evolve(world.client.profile, name="site"))
    profiles.activate("site")
    with Client(profiles.active()) as second:
        other = hold(str(second.storage), streams.dataset(dataset))
        try:
            with pytest.raises(ConflictError, match=f"in use by process {other.pid}"):
                dataset_transfer.import_archive(second, archive)
            assert list(second.store.read_all()) == [] and not (second.storage / "datasets").exists()
        finally:
            other.kill()
            other.wait()
        assert dataset_transfer.import_archive(second, archive)["dataset_id"] == dataset


def test_cleanup_leaves_what_a_running_preparation_writes(world: World,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    dataset = submit(world)
    partial = world.client.storage / "datasets" / str(dataset) / "data.partial"
    partial.mkdir(parents=True)  # what a preparation writes while its container runs
    (partial / "case1.txt").write_text("0.2")
    other = hold(str(world.client.storage), streams.dataset(dataset))
    try:
        capsys.readouterr()
        assert medperf(["storage", "cleanup", "-y"]) == 0
        out = capsys.readouterr().out
        assert f"Left alone: {partial} (dataset {dataset} is in use by process {other.pid}" in out
        assert (partial / "case1.txt").is_file()
        # the lock taken between the listing and the removal: the entry is still left, naming the holder
        said: list[str] = []
        entries = [e for e in storage.removable(storage.scan()) if e.path == partial]
        assert storage.remove(entries, say=said.append) == 0
        holder = locks.held_by(world.client.storage, streams.dataset(dataset))
        assert holder and f"process {other.pid}" in holder
        assert said == [f"left {partial}: dataset {dataset} is in use by {holder}"]
        assert partial.is_dir()
    finally:
        other.kill()
        other.wait()
    assert medperf(["storage", "cleanup", "-y"]) == 0
    assert not partial.exists()
