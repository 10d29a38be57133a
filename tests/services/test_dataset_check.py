"""`medperf dataset check`: the raw and prepared hashes recomputed and compared with the server's."""

from __future__ import annotations

import json

import pytest
from _owner_world import World
from test_data_owner import operational, prepared

from medperf_core.cli.main import run as medperf
from medperf_core.services import dataset_check as dc


def statuses(world: World, dataset: int) -> tuple[str, str]:
    raw, prep = dc.check(world.client, dataset)
    return raw.status, prep.status


def test_unchanged_then_one_raw_file_changed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = operational(world)
    assert statuses(world, dataset) == (dc.UNCHANGED, dc.UNCHANGED)
    assert world.events(f"dataset-{dataset}")[-1] == "dataset.checked"
    (world.data / "case2.txt").write_text("0.1")
    raw, prep = dc.check(world.client, dataset)
    assert (raw.status, prep.status) == (dc.CHANGED, dc.UNCHANGED)
    assert raw.expected == world.client.backend.get_dataset(dataset)["input_data_hash"] != raw.actual
    assert "new dataset" in raw.advice
    capsys.readouterr()
    assert medperf(["dataset", "check", "--data_uid", str(dataset)]) == 1
    out = capsys.readouterr().out
    assert "raw data: changed" in out and "prepared data: unchanged" in out and "registered" in out
    assert medperf(["dataset", "check", "--data_uid", str(dataset), "--json"]) == 1
    assert [p["status"] for p in json.loads(capsys.readouterr().out)] == ["changed", "unchanged"]


def test_renaming_files_keeps_the_hash_adding_one_changes_it(world: World,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    dataset = operational(world)
    (world.data / "case1.txt").rename(world.data / "renamed.txt")
    (world.labels / "labels.csv").rename(world.labels / "truth.csv")
    assert statuses(world, dataset) == (dc.UNCHANGED, dc.UNCHANGED)
    capsys.readouterr()
    assert medperf(["dataset", "check", "-d", str(dataset)]) == 0
    assert "raw data: unchanged" in capsys.readouterr().out
    (world.data / "case4.txt").write_text("0.5")
    assert statuses(world, dataset) == (dc.CHANGED, dc.UNCHANGED)


def test_prepared_data_changed_or_missing(world: World) -> None:
    dataset = prepared(world)  # prepared, not yet operational: the prepared hash is in the local log only
    assert statuses(world, dataset) == (dc.UNCHANGED, dc.UNCHANGED)
    folder = world.client.storage / "datasets" / str(dataset)
    next((folder / "data").iterdir()).write_text("tampered")
    _raw, prep = dc.check(world.client, dataset)
    assert prep.status == dc.CHANGED and "--force" in prep.advice
    for child in (folder / "data").iterdir():
        child.unlink()
    (folder / "data").rmdir()
    assert statuses(world, dataset) == (dc.UNCHANGED, dc.MISSING)


def test_an_unknown_dataset_is_one_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert medperf(["dataset", "check", "-d", "99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dataset 99 is not registered from this machine" in err
