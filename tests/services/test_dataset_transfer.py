"""`dataset export` on one home, `dataset import` on a fresh one (another MEDPERF_HOME), then run and submit there."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _owner_world import World
from test_data_owner import associated, prepared, run

from medperf_core.backends.local import LOCAL_TOKEN
from medperf_core.cli.main import run as medperf
from medperf_core.domain.executions import result_uid
from medperf_core.errors import ConflictError, IntegrityError, UserError
from medperf_core.profiles import Profile, ProfileStore
from medperf_core.services import dataset_check, dataset_transfer, execution, results
from medperf_core.services.client import Client
from medperf_core.testing.server import DEMO_EMAILS


@pytest.fixture()
def new_home(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Client]]:
    """The same data owner on a new workstation: an empty MEDPERF_HOME, the same server. Called once the old
    machine's work is done (a profile's storage follows MEDPERF_HOME)."""
    opened: list[Client] = []

    def move() -> Client:
        world.client.store  # noqa: B018 (the old machine's log stays open where it is)
        monkeypatch.setenv("MEDPERF_HOME", str(tmp_path / "new-workstation"))
        profiles = ProfileStore()
        profiles.save(Profile(name="site", backend="local", local_db=world.client.profile.local_db,
                              email=DEMO_EMAILS["do"], token=LOCAL_TOKEN))
        profiles.activate("site")
        client = Client(profiles.active())
        client.runner = world.runner
        opened.append(client)
        return client

    yield move
    for client in opened:
        client.close()


def test_export_import_run_and_submit_on_the_new_machine(world: World, new_home: Callable[[], Client],
                                                         tmp_path: Path) -> None:
    dataset = associated(world)
    run(world, dataset)
    old_uid = result_uid(world.benchmark, world.model, dataset)
    archive = tmp_path / "moving.tar.gz"
    manifest = dataset_transfer.export(world.client, dataset, archive)
    assert manifest["executions"] == sorted([old_uid, result_uid(world.benchmark, world.reference, dataset)])
    assert "dataset/statistics.yaml" in manifest["files"]
    assert not any("raw" in name for name in manifest["files"])  # the raw data never leaves

    newer = world.register_model("fake/model2:1", {"name": "model2", "threshold": 0.95})
    second_home = new_home()
    done = dataset_transfer.import_archive(second_home, archive)
    assert done["dataset_id"] == dataset and done["state"] == "operational" and not done["raw_data"]
    row = second_home.local.dataset(dataset)
    assert row is not None and row["state"] == "operational" and row["data_path"] is None
    assert second_home.local.execution(old_uid)["metrics"] == world.client.local.execution(old_uid)["metrics"]
    stored = list(second_home.store.read_all())
    assert {s.type for s in stored} == {"history.imported", "dataset.imported"}
    first = stored[0]
    assert first.payload["event_type"] == "dataset.registered"
    assert first.payload["origin"]["archive_sha256"] == done["source"]["archive_sha256"]

    # the new machine runs the model it has not run yet, and submits both the old and the new result
    outcomes = execution.run_benchmark(second_home, world.benchmark, dataset, say=lambda _: None)
    assert {o.model: o.from_cache for o in outcomes} == {world.reference: True, world.model: True, newer: False}
    for uid in (old_uid, result_uid(world.benchmark, newer, dataset)):
        created = results.submit(second_home, uid, results.plan_submission(second_home, uid))
        assert created["id"]
    assert second_home.local.execution(old_uid)["state"] == "submitted"
    assert world.client.store.verify().ok and second_home.store.verify().ok
    # rebuilding the new machine's state from its log gives the same rows
    assert second_home.store.replay().equal


def test_import_with_the_raw_data_then_check(world: World, new_home: Callable[[], Client], tmp_path: Path) -> None:
    dataset = prepared(world)
    archive = tmp_path / "moving.tar"
    dataset_transfer.export(world.client, dataset, archive)
    second_home = new_home()
    with pytest.raises(UserError, match="does not hold the raw folders"):
        dataset_transfer.import_archive(second_home, archive, raw_dataset_path=tmp_path / "nowhere")
    assert list(second_home.store.read_all()) == []
    done = dataset_transfer.import_archive(second_home, archive, raw_dataset_path=world.data.parent)
    assert done["raw_data"] and done["state"] == "prepared"
    raw, prep = dataset_check.check(second_home, dataset)
    assert (raw.status, prep.status) == (dataset_check.UNCHANGED, dataset_check.UNCHANGED)
    with pytest.raises(ConflictError, match="already"):
        dataset_transfer.import_archive(second_home, archive)


def _nothing_imported(client: Client, dataset: int) -> None:
    assert list(client.store.read_all()) == []
    assert not (client.storage / "datasets" / str(dataset)).exists()
    assert not [p for p in client.storage.iterdir() if p.name.startswith(".import-")]


def test_a_truncated_or_altered_archive_is_refused_and_nothing_changes(world: World,
                                                                       new_home: Callable[[], Client],
                                                                       tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    dataset = associated(world)
    archive = tmp_path / "moving.tar"
    dataset_transfer.export(world.client, dataset, archive)
    whole = archive.read_bytes()
    second_home = new_home()

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(IntegrityError, match="damaged at") as caught:
        dataset_transfer.import_archive(second_home, truncated)
    assert str(truncated) in caught.value.message
    _nothing_imported(second_home, dataset)

    # one prepared file altered inside the archive: the error names it
    altered = tmp_path / "altered.tar"
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("dataset/data/"))
    with tarfile.open(archive) as tar, tarfile.open(altered, "w") as out:
        for m in tar.getmembers():
            data = tar.extractfile(m)
            if m.name == member.name and data is not None:
                content = b"9" + data.read()[1:]
                out.addfile(m, io.BytesIO(content))
            else:
                out.addfile(m, data)
    capsys.readouterr()
    assert medperf(["dataset", "import", "--input", str(altered)]) == 5
    err = capsys.readouterr().err
    assert member.name in err and err.count("\n") == 1
    _nothing_imported(second_home, dataset)

    # an event of the excerpt edited: the chain check names events.jsonl
    edited = tmp_path / "edited.tar"
    with tarfile.open(archive) as tar, tarfile.open(edited, "w") as out:
        manifest = json.loads(tar.extractfile(dataset_transfer.MANIFEST).read())  # type: ignore[union-attr]
        events = tar.extractfile("events.jsonl").read().replace(b'"mydata"', b'"yourdata"')  # type: ignore[union-attr]
        manifest["files"]["events.jsonl"] = {"sha256": hashlib.sha256(events).hexdigest(), "size": len(events)}
        for m in tar.getmembers():
            if m.name == dataset_transfer.MANIFEST:
                body = json.dumps(manifest).encode()
                m.size = len(body)
                out.addfile(m, io.BytesIO(body))
            elif m.name == "events.jsonl":
                m.size = len(events)
                out.addfile(m, io.BytesIO(events))
            else:
                out.addfile(m, tar.extractfile(m))
    with pytest.raises(IntegrityError, match=r"events\.jsonl"):
        dataset_transfer.import_archive(second_home, edited)
    _nothing_imported(second_home, dataset)


def test_cli_export_and_import(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    dataset = prepared(world)
    world.client.store  # noqa: B018
    archive = tmp_path / "d.tar.gz"
    capsys.readouterr()
    assert medperf(["dataset", "export", "-d", str(dataset), "-o", str(archive)]) == 0
    assert "exported" in capsys.readouterr().out
    assert medperf(["dataset", "export", "-d", str(dataset), "-o", str(archive)]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("MEDPERF_HOME", str(tmp_path / "other"))
    ProfileStore().save(Profile(name="site", backend="local", local_db=world.client.profile.local_db,
                                email=DEMO_EMAILS["do"], token=LOCAL_TOKEN))
    ProfileStore().activate("site")
    assert medperf(["dataset", "import", "-i", str(archive), "--raw_dataset_path", str(world.data.parent)]) == 0
    assert f"Dataset {dataset} imported (prepared" in capsys.readouterr().out
    assert medperf(["events", "verify"]) == 0
