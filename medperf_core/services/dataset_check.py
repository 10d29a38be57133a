"""`dataset check`: recompute the raw and prepared data hashes and compare them with what the server holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from medperf_core.domain import events as ev
from medperf_core.domain import streams
from medperf_core.domain.datasets import DatasetState
from medperf_core.services.client import Client
from medperf_core.services.datasets import dataset_folder, dataset_lock, local_dataset
from medperf_core.services.hashing import Progress, folders_hash

UNCHANGED, CHANGED, MISSING, NOT_PREPARED = "unchanged", "changed", "missing", "not prepared"


@attrs.frozen(kw_only=True)
class PartCheck:
    """One part (raw or prepared data): where it is, the hash the server holds, the one computed now."""

    part: str
    status: str
    expected: str
    actual: str
    paths: tuple[str, ...]
    advice: str = ""


def _paths_missing(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.exists()]


def _check_raw(dataset_id: int, row: dict[str, Any], expected: str, progress: Progress | None) -> PartCheck:
    paths = [Path(p) for p in (row.get("data_path"), row.get("labels_path")) if p]
    shown = tuple(str(p) for p in paths)
    if not paths or _paths_missing(paths):
        where = ", ".join(str(p) for p in _paths_missing(paths)) or "no raw data path is recorded on this machine"
        return PartCheck(part="raw", status=MISSING, expected=expected, actual="", paths=shown,
                         advice=f"the raw data is not here ({where}); it is only needed to prepare again")
    actual = folders_hash(paths, progress=progress)
    if actual == expected:
        return PartCheck(part="raw", status=UNCHANGED, expected=expected, actual=actual, paths=shown)
    return PartCheck(
        part="raw", status=CHANGED, expected=expected, actual=actual, paths=shown,
        advice="files were changed, added or removed since the dataset was registered; restore them, or register "
               "the new data as a new dataset (medperf dataset submit) — the registered hash never changes",
    )


def _check_prepared(client: Client, dataset_id: int, row: dict[str, Any], expected: str,
                    progress: Progress | None) -> PartCheck:
    folder = dataset_folder(client, dataset_id)
    paths = [folder / "data", folder / "labels"]
    shown = tuple(str(p) for p in paths)
    if row["state"] == DatasetState.REGISTERED:
        return PartCheck(part="prepared", status=NOT_PREPARED, expected="", actual="", paths=shown,
                         advice=f"prepare it: medperf dataset prepare --data_uid {dataset_id}")
    if _paths_missing(paths):
        return PartCheck(part="prepared", status=MISSING, expected=expected, actual="", paths=shown,
                         advice=_redo(dataset_id, row, "the prepared data is gone"))
    actual = folders_hash(paths, progress=progress)
    if actual == expected:
        return PartCheck(part="prepared", status=UNCHANGED, expected=expected, actual=actual, paths=shown)
    return PartCheck(part="prepared", status=CHANGED, expected=expected, actual=actual, paths=shown,
                     advice=_redo(dataset_id, row, "the prepared data no longer matches its registered hash"))


def _redo(dataset_id: int, row: dict[str, Any], what: str) -> str:
    if row["state"] == DatasetState.OPERATIONAL:
        return (f"{what}; results computed on it would not be this dataset's: restore it from an export "
                f"(medperf dataset import) or register the data again as a new dataset")
    return f"{what}; prepare it again: medperf dataset prepare --data_uid {dataset_id} --force"


def check(client: Client, dataset_id: int, *, progress: Progress | None = None) -> list[PartCheck]:
    """Both parts, compared with the server's `input_data_hash` and `generated_uid`; records the outcome in the
    client's log (`dataset.checked`). One command at a time on the dataset: not while it is being prepared."""
    local_dataset(client, dataset_id)
    with dataset_lock(client, dataset_id):
        return _check(client, dataset_id, progress)


def _check(client: Client, dataset_id: int, progress: Progress | None) -> list[PartCheck]:
    row = local_dataset(client, dataset_id)
    server = client.backend.get_dataset(dataset_id)
    expected_prepared = str(server.get("generated_uid") or row.get("generated_uid") or "")
    if row["state"] == DatasetState.PREPARED and server.get("state") != "OPERATION":
        # before OPERATION the server holds the raw hash as generated_uid; the prepared hash lives in our log
        expected_prepared = str(row["generated_uid"])
    parts = [
        _check_raw(dataset_id, row, str(server.get("input_data_hash") or row["input_data_hash"]), progress),
        _check_prepared(client, dataset_id, row, expected_prepared, progress),
    ]
    _, version = client.store.load(streams.dataset(dataset_id))
    client.record(streams.dataset(dataset_id), version, ev.DatasetChecked(
        dataset_id=dataset_id, raw=parts[0].status, prepared=parts[1].status,
        raw_hash=parts[0].actual, prepared_hash=parts[1].actual,
    ))
    return parts
