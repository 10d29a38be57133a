"""Move a dataset to another machine: `dataset export` writes one archive, `dataset import` checks and adopts it.

The archive (tar, gzip unless the name ends in `.tar`) holds, `manifest.json` first:
- `dataset/`: the prepared data, labels, statistics and logs (`datasets/<id>/` of the profile's storage);
- `executions/<uid>/`: the dataset's local results (predictions, metrics, logs);
- `events.jsonl`: every event of the exporting log about the dataset, its executions and associations, as stored
  (position, stream, version, payload, actor, time, prev_hash, hash);
- `chain.jsonl`: `[position, prev_hash, hash]` of every event of the exporting log, so the excerpt's events are
  checked against the whole chain without carrying the other events' contents;
- `manifest.json`: the sha256 and size of every other file, the dataset, and the exporting log's head.

Import checks every file's hash, the chain and each excerpt event's hash, and the prepared data against its
registered hash, in a temporary folder; only then does it move the folders into place and append the history as
`history.imported` events (with where each came from) and a `dataset.imported` event, in one transaction. Any
failure leaves this machine as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medperf_core.atomic import atomic_path
from medperf_core.domain import datasets as dataset_machine
from medperf_core.domain import events as ev
from medperf_core.domain import streams
from medperf_core.domain.datasets import DatasetState
from medperf_core.errors import ConflictError, IntegrityError, UserError
from medperf_core.services.client import Client
from medperf_core.services.datasets import dataset_folder, dataset_lock, local_dataset
from medperf_core.services.hashing import Progress, file_hash, folders_hash
from medperf_core.store.canonical import GENESIS_HASH, event_hash
from medperf_core.store.mapper import to_domain_event
from medperf_core.store.records import StoredEvent
from medperf_core.store.store import Append

FORMAT = "medperf-dataset-export"
VERSION = 1
MANIFEST = "manifest.json"


def _belongs(stored_stream: str, dataset_id: int, executions: set[str]) -> bool:
    return (stored_stream == streams.dataset(dataset_id) or stored_stream in executions
            or stored_stream.startswith(streams.association_prefix("dataset", dataset_id)))


def _files(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            path = Path(directory, name)
            yield f"{prefix}/{path.relative_to(root).as_posix()}", path


def export(client: Client, dataset_id: int, output: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Write the archive (to a temporary name, renamed when complete); returns its manifest. Holds the dataset's
    lock, so no preparation or run changes its folders meanwhile."""
    local_dataset(client, dataset_id)
    with dataset_lock(client, dataset_id):
        return _export(client, dataset_id, output, progress)


def _export(client: Client, dataset_id: int, output: Path, progress: Progress | None) -> dict[str, Any]:
    row = local_dataset(client, dataset_id)
    folder = dataset_folder(client, dataset_id)
    if row["state"] == DatasetState.REGISTERED or not (folder / "data").is_dir():
        raise UserError(f"dataset {dataset_id} is not prepared on this machine, so there is nothing to move",
                        f"prepare it first (medperf dataset prepare --data_uid {dataset_id}), or register the "
                        "data on the other machine")
    output = output.expanduser()
    if output.exists():
        raise UserError(f"{output} already exists", "choose another --output, or remove it")
    if not output.parent.is_dir():
        raise UserError(f"the folder {output.parent} does not exist", "create it, or choose another --output")
    known = [e for e in client.local.executions() if int(e["dataset"]) == dataset_id]
    execution_streams = {streams.execution(e['uid']) for e in known}
    executions = [e for e in known if (client.storage / "executions" / e["uid"]).is_dir()]
    head = client.store.head()
    with tempfile.TemporaryDirectory(prefix=".export-", dir=output.parent) as tmp:
        work = Path(tmp)
        with (work / "events.jsonl").open("w", encoding="utf-8") as events, \
                (work / "chain.jsonl").open("w", encoding="utf-8") as chain:
            for stored in client.store.read_all():
                if stored.position > head.position:
                    break
                chain.write(json.dumps([stored.position, stored.prev_hash, stored.hash]) + "\n")
                if _belongs(stored.stream, dataset_id, execution_streams):
                    events.write(json.dumps(stored.as_row(), sort_keys=True) + "\n")
        members = [("events.jsonl", work / "events.jsonl"), ("chain.jsonl", work / "chain.jsonl")]
        members += list(_files(folder, "dataset"))
        for execution in executions:
            members += list(_files(client.storage / "executions" / execution["uid"], f"executions/{execution['uid']}"))
        total = sum(p.stat().st_size for _, p in members)
        done = 0
        files: dict[str, dict[str, Any]] = {}
        for name, path in members:
            files[name] = {"sha256": file_hash(path), "size": path.stat().st_size}
            done += files[name]["size"]
            if progress:
                progress(done, total)
        manifest = {
            "format": FORMAT, "version": VERSION, "dataset_id": dataset_id, "state": row["state"],
            "name": row["name"], "input_data_hash": row["input_data_hash"], "generated_uid": row["generated_uid"],
            "raw_folders": [Path(p).name for p in (row["data_path"], row["labels_path"]) if p],
            "executions": sorted(e["uid"] for e in executions),
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "exported_by": client.actor, "server": client.profile.server if client.profile.backend == "rest"
            else f"local:{client.profile.local_db or ''}",
            "log_head": {"position": head.position, "hash": head.hash}, "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        mode = "w" if output.name.endswith(".tar") else "w:gz"
        with atomic_path(output, prefix=".export-") as partial, \
                tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
            tar.add(work / MANIFEST, arcname=MANIFEST)
            for name, path in members:
                tar.add(path, arcname=name, recursive=False)
    return manifest


# --- import ------------------------------------------------------------------------------------------------


def _damaged(archive: Path, member: str, why: str) -> IntegrityError:
    return IntegrityError(f"archive {archive} is damaged at {member}: {why}",
                          "export the dataset again on the other machine and copy the archive whole")


def _extract(archive: Path, into: Path) -> dict[str, Any]:
    """Every member into `into` (regular files and folders only, no path outside it); the manifest."""
    current = MANIFEST
    try:
        with tarfile.open(archive, "r:*") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise IntegrityError(f"{archive} is not a medperf dataset export (no {MANIFEST} first)",
                                     "pass a file written by `medperf dataset export`")
            tar.extract(first, into, filter="data")
            for member in tar:
                current = member.name
                if not (member.isfile() or member.isdir()):
                    raise _damaged(archive, current, "only files and folders belong in an export")
                tar.extract(member, into, filter="data")
    except IntegrityError:
        raise
    except (tarfile.TarError, EOFError, OSError) as e:
        raise _damaged(archive, current, str(e) or type(e).__name__) from e
    try:
        manifest: dict[str, Any] = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except ValueError as e:
        raise _damaged(archive, MANIFEST, f"not JSON ({e})") from e
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise IntegrityError(f"{archive} is not a medperf dataset export of version {VERSION}",
                             "export it again with this medperf version")
    return manifest


def _check_files(archive: Path, root: Path, manifest: dict[str, Any], progress: Progress | None) -> None:
    listed: dict[str, dict[str, Any]] = manifest["files"]
    present = {name for name, _ in _files(root, "")}
    present = {name.lstrip("/") for name in present} - {MANIFEST}
    for name in sorted(set(listed) - present):
        raise _damaged(archive, name, "listed in the manifest but missing (a truncated archive?)")
    for name in sorted(present - set(listed)):
        raise _damaged(archive, name, "not listed in the manifest")
    total, done = sum(int(f["size"]) for f in listed.values()), 0
    for name, expected in sorted(listed.items()):
        path = root / name
        if path.stat().st_size != expected["size"] or file_hash(path) != expected["sha256"]:
            raise _damaged(archive, name, "its sha256 differs from the manifest's")
        done += int(expected["size"])
        if progress:
            progress(done, total)


def _check_chain(archive: Path, root: Path, manifest: dict[str, Any]) -> list[StoredEvent]:
    """The chain links from genesis to the recorded head; every excerpt event hashes to its place in it."""
    links: dict[int, tuple[str, str]] = {}
    previous = GENESIS_HASH
    for number, line in enumerate((root / "chain.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
        position, prev_hash, digest = json.loads(line)
        if position != number or prev_hash != previous:
            raise _damaged(archive, "chain.jsonl", f"the hash chain breaks at position {number}")
        links[position] = (prev_hash, digest)
        previous = digest
    head = manifest["log_head"]
    if len(links) != head["position"] or previous != head["hash"]:
        raise _damaged(archive, "chain.jsonl", "the chain does not end at the exporting log's recorded head")
    events = []
    for line in (root / "events.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if links.get(row["position"]) != (row["prev_hash"], row["hash"]) \
                or event_hash(row["prev_hash"], row) != row["hash"]:
            raise _damaged(archive, "events.jsonl", f"event at position {row['position']} does not match the chain")
        events.append(StoredEvent(**row))
    return events


def _raw_paths(raw: Path | None, manifest: dict[str, Any]) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    raw = raw.expanduser().resolve()
    names = manifest["raw_folders"]
    folders = [raw / n for n in names]
    missing = [str(f) for f in folders if not f.is_dir()]
    if len(folders) != 2 or missing:
        raise UserError(f"--raw_dataset_path {raw} does not hold the raw folders {', '.join(names)}",
                        f"pass the folder that contains {' and '.join(names)} on this machine")
    actual = folders_hash(folders)
    if actual != manifest["input_data_hash"]:
        raise UserError(f"the raw data under {raw} has hash {actual}, the dataset was registered with "
                        f"{manifest['input_data_hash']}",
                        "pass the same raw data, or import without --raw_dataset_path")
    return str(folders[0]), str(folders[1])


def import_archive(client: Client, archive: Path, *, raw_dataset_path: Path | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    archive = archive.expanduser()
    if not archive.is_file():
        raise UserError(f"{archive} does not exist", "pass the file written by `medperf dataset export`")
    archive_sha = file_hash(archive)
    client.storage.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=client.storage) as tmp:
        root = Path(tmp)
        manifest = _extract(archive, root)
        _check_files(archive, root, manifest, progress)
        stored = _check_chain(archive, root, manifest)
        dataset_id = int(manifest["dataset_id"])
        with dataset_lock(client, dataset_id):  # two imports of one dataset at once: one adopts it
            return _adopt(client, archive, archive_sha, root, manifest, stored, raw_dataset_path)


def _adopt(client: Client, archive: Path, archive_sha: str, root: Path, manifest: dict[str, Any],
           stored: list[StoredEvent], raw_dataset_path: Path | None) -> dict[str, Any]:
    """Checked files and chain: check the prepared data and the raw folders, then move and append at once."""
    dataset_id = int(manifest["dataset_id"])
    history = [to_domain_event(s) for s in stored]  # every event is one this medperf knows
    own = streams.dataset(dataset_id)
    current = dataset_machine.fold(e for s, e in zip(stored, history, strict=True) if s.stream == own)
    if current is None:
        raise _damaged(archive, "events.jsonl", f"no registration of dataset {dataset_id}")
    if current.state is dataset_machine.DatasetState.REGISTERED or \
            folders_hash([root / "dataset" / "data", root / "dataset" / "labels"]) != current.generated_uid:
        raise _damaged(archive, "dataset/", "the prepared data does not hash to the dataset's prepared hash")
    data_path, labels_path = _raw_paths(raw_dataset_path, manifest)
    targets = {root / "dataset": dataset_folder(client, dataset_id)}
    targets.update({root / "executions" / uid: client.storage / "executions" / uid
                    for uid in manifest["executions"]})
    _refuse_existing(client, dataset_id, stored, targets)
    source = {"archive_sha256": archive_sha, "server": manifest["server"],
              "exported_by": manifest["exported_by"], "exported_at": manifest["exported_at"],
              "log_head": manifest["log_head"]}
    appends = _appends(stored, source)
    appends[streams.dataset(dataset_id)].append(ev.DatasetImported(
        dataset_id=dataset_id, source=source, data_path=data_path, labels_path=labels_path))
    moved: list[Path] = []
    try:
        for source_folder, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            source_folder.rename(target)
            moved.append(target)
        client.store.append_all([Append(name, 0, events) for name, events in appends.items()], client.actor)
    except BaseException:
        for target in moved:
            shutil.rmtree(target, ignore_errors=True)
        raise
    return {"dataset_id": dataset_id, "state": str(current.state), "executions": manifest["executions"],
            "events": len(stored), "raw_data": data_path is not None, "source": source}


def _refuse_existing(client: Client, dataset_id: int, stored: list[StoredEvent],
                     targets: dict[Path, Path]) -> None:
    for name in dict.fromkeys(s.stream for s in stored):
        if client.store.load(name)[1]:
            raise ConflictError(f"this machine already has {name} in its log",
                                f"dataset {dataset_id} is already here (medperf dataset ls --mine)")
    for target in targets.values():
        if target.exists():
            raise ConflictError(f"{target} already exists and no event of this machine's log explains it",
                                "see `medperf storage ls`; remove it (medperf storage cleanup) and import again")


def _appends(stored: list[StoredEvent], source: dict[str, Any]) -> dict[str, list[ev.DomainEvent]]:
    by_stream: dict[str, list[ev.DomainEvent]] = {}
    for s in stored:
        origin = {"position": s.position, "hash": s.hash, "prev_hash": s.prev_hash, "stream": s.stream,
                  "version": s.version, "actor": s.actor, "recorded_at": s.recorded_at,
                  "archive_sha256": source["archive_sha256"]}
        by_stream.setdefault(s.stream, []).append(ev.HistoryImported(
            origin=origin, event_type=s.type, event_schema_version=s.schema_version, payload=s.payload))
    return by_stream
