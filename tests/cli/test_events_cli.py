"""`medperf events ls|verify|replay|export` on a store file and on the active profile's log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medperf_core.cli.main import run
from medperf_core.domain.events import AssociationRequested, DatasetPrepared, DatasetRegistered
from medperf_core.store.sqlite import sqlite_store


def output(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    capsys.readouterr()
    assert run(list(args)) == code
    captured = capsys.readouterr()
    return captured.out if code == 0 else captured.err


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    with sqlite_store(path) as store:
        store.append(
            "dataset-1",
            0,
            [
                DatasetRegistered(
                    dataset_id=1,
                    name="site A",
                    owner=3,
                    input_data_hash="h",
                    generated_uid="g",
                    data_preparation_mlcube=2,
                ),
                DatasetPrepared(dataset_id=1, generated_uid="g2", statistics={"n": 4}),
            ],
            actor="testdo@example.com",
        )
        store.append(
            "association-dataset-1-benchmark-1",
            0,
            [
                AssociationRequested(kind="dataset", benchmark=1, entity=1, initiated_by=3),
            ],
            actor="testdo@example.com",
        )
    return path


def test_ls_prints_a_table_oldest_first(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = output(capsys, "events", "ls", "--store", str(store_file)).splitlines()
    assert lines[0].split() == ["position", "recorded", "at", "stream", "version", "type", "actor"]
    assert [line.split()[0] for line in lines[2:]] == ["1", "2", "3"]
    assert "dataset.registered" in lines[2] and "association.requested" in lines[4]


def test_ls_json_and_stream_filter(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(
        output(capsys, "events", "ls", "--store", str(store_file), "--json", "--stream", "dataset-1")
    )
    assert [(r["position"], r["type"]) for r in rows] == [(1, "dataset.registered"), (2, "dataset.prepared")]
    assert rows[1]["payload"] == {"dataset_id": 1, "generated_uid": "g2", "statistics": {"n": 4}}
    assert set(rows[0]) >= {"hash", "prev_hash", "actor", "recorded_at", "schema_version"}


def test_verify_an_intact_log(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = output(capsys, "events", "verify", "--store", str(store_file))
    assert "event log intact: 3 events, hash chain verified, head " in out


def test_replay_reports_equal_projections(store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = output(capsys, "events", "replay", "--store", str(store_file), "--check-only")
    assert "replayed 3 events" in out and "equals the live state" in out


def test_export_writes_one_stored_event_per_line(
    store_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "log.jsonl"
    target.parent.mkdir()
    assert "exported 3 events" in output(
        capsys, "events", "export", "--store", str(store_file), "-o", str(target)
    )
    lines = target.read_text(encoding="utf-8").splitlines()
    with sqlite_store(store_file) as store:
        assert [json.loads(line) for line in lines] == [e.as_row() for e in store.read_all()]
    assert sorted(p.name for p in target.parent.iterdir()) == ["log.jsonl"]  # no temporary file left


def test_a_missing_store_is_a_one_line_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.db"
    for command in ("ls", "verify", "replay"):
        err = output(capsys, "events", command, "--store", str(missing), code=2)
        assert err == f"❌ Error: no event store at {missing} (check the path)\n"
    assert not missing.exists()


def test_without_store_the_active_profile_log_under_medperf_home_is_used(
    medperf_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = output(capsys, "events", "verify")
    assert "intact: 0 events" in out
    assert (medperf_home / "profiles" / "local" / "events.db").exists()


def test_events_without_a_subcommand_shows_usage(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = run(["events"])
    captured = capsys.readouterr()
    assert code == 2
    assert "ls" in captured.out + captured.err and "verify" in captured.out + captured.err
