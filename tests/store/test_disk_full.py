"""A full disk (a small tmpfs as MEDPERF_HOME) and a corrupt local database: named as such, with what to do; a
full disk records nothing half-way and the same write succeeds once space is freed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.domain.events import DatasetRegistered
from medperf_core.failures import CorruptDatabaseError, DiskFullError, translate
from medperf_core.store.backends import open_client_storage
from medperf_core.testing.tmpfs import tmpfs_home


@pytest.fixture()
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tmpfs_home(tmp_path / "tmpfs", 4, monkeypatch) as mount:
        yield mount


def registered(dataset_id: int) -> DatasetRegistered:
    return DatasetRegistered(dataset_id=dataset_id, name="d" * 2000, owner=1, input_data_hash="h" * 64,
                             generated_uid="h" * 64, data_preparation_mlcube=1, data_path="/data", labels_path="/l")


def fill(path: Path) -> Path:
    filler = path / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_named_records_nothing_half_way_and_resumes(small_disk: Path) -> None:
    db = small_disk / "events.db"
    storage = open_client_storage(db)
    storage.store.append("dataset-1", 0, [registered(1)], "do")
    filler = fill(small_disk)
    with pytest.raises(Exception) as info:
        for n in range(2, 2000):  # the log grows until the disk refuses
            storage.store.append(f"dataset-{n}", 0, [registered(n)], "do")
    known = translate(info.value)
    assert isinstance(known, DiskFullError), repr(info.value)
    assert f"no space left on device under MEDPERF_HOME ({small_disk}): free " in known.message
    assert known.message.endswith(" MB")
    assert known.hint and "run the same command again" in known.hint
    storage.store.close()
    filler.unlink()
    storage = open_client_storage(db)
    assert storage.store.verify().ok
    assert storage.store.replay(rebuild=False).equal
    count = storage.store.head().position
    storage.store.append(f"dataset-{count + 1}", 0, [registered(count + 1)], "do")  # resumes once space is freed
    assert storage.store.head().position == count + 1
    storage.store.close()


def test_a_corrupt_database_is_named_with_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(Exception) as info:
        open_client_storage(db)
    known = translate(info.value)
    assert isinstance(known, CorruptDatabaseError), repr(info.value)
    assert known.hint and "medperf events export" in known.hint and "medperf sync" in known.hint
