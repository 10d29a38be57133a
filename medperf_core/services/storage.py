"""What lives under MEDPERF_HOME, with sizes, and which of it is temporary or orphaned (safe to remove).

Each profile's folder is classified against that profile's own log: a dataset or result folder that no event of the
log knows is orphaned (left by a dataset or run whose history was lost, or by a killed command before its first
event), a `*.partial` or temporary file is what an interrupted step or download left. Private data (a registered
dataset's prepared folder, a result) is never classified as removable.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from medperf_core.config import medperf_home
from medperf_core.containers.owned_images import PULLED_FILE, OwnedImage
from medperf_core.domain import streams
from medperf_core.domain.executions import ExecutionState
from medperf_core.profiles import ProfileStore

# Names that only an interrupted write leaves behind: a step's output before its rename, mkstemp files, a SIF
# being built, a download being unpacked.
_TEMPORARY = re.compile(
    r"(\.partial$|\.tmp$|^\.additional-|^\.stale-|^\.parameters-|^\.import-|^\..+\.\d+\.[0-9a-f]{8}\.sif$)")
_LOG_FILES = ("events.db", "events.db-wal", "events.db-shm", "events.db-lock")  # -lock: the writers' flock


@attrs.frozen(kw_only=True)
class Entry:
    """One thing under MEDPERF_HOME: `kind` (dataset, result, container files, sif, log, event log, …), `name`,
    its `path` and `size` in bytes, `status` (kept, temporary, orphaned, unused) and why."""

    kind: str
    name: str
    path: Path
    size: int
    status: str = "kept"
    note: str = ""
    profile: str = ""
    # The dataset whose command lock guards this entry (a prepare or run may be writing it): its profile's
    # storage and the dataset id; None for what no dataset command writes.
    guard: tuple[Path, str] | None = None
    image: OwnedImage | None = None  # an engine image this home created (kind "image"; path is its id)
    image_owner: str = ""  # the registered `ImageOwner` that listed the image, and removes it

    @property
    def removable(self) -> bool:
        return self.status in ("temporary", "orphaned", "unused")

    def public(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "path": str(self.path), "size": self.size,
                "status": self.status, "note": self.note, "profile": self.profile}


def size_of(path: Path) -> int:
    """Bytes of a file or every file under a folder (links not followed, so nothing is counted twice)."""
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _temporary_under(folder: Path, kind: str, profile: str, depth: int = 3) -> list[Entry]:
    """Temporary leftovers in `folder` and up to `depth` levels of folders below it. Never deeper: a prepared
    dataset's or a prediction's own files (at depth 4) are the container's, whatever their names."""
    found = []
    for path in _children(folder):
        if _TEMPORARY.search(path.name):
            found.append(Entry(kind=kind, name=str(path.relative_to(folder)), path=path, size=size_of(path),
                               status="temporary", note="left by an interrupted step", profile=profile))
        elif depth > 1 and path.is_dir() and not path.is_symlink():
            found += [attrs.evolve(e, name=f"{path.name}/{e.name}")
                      for e in _temporary_under(path, kind, profile, depth - 1)]
    return found


def _known(profile_name: str, storage: Path,
           store_url: str | None) -> tuple[set[str], dict[str, str], dict[str, str]] | None:
    """The dataset ids, execution uids (with their state, and their dataset) this profile's log knows; None
    without a log."""
    if store_url is None and not (storage / "events.db").exists():
        return None
    from medperf_core.client_store import client_store_path
    from medperf_core.store.backends import open_client_storage

    opened = open_client_storage(store_url or client_store_path(storage))
    try:
        datasets = {str(row["dataset_id"]) for row in opened.reads.datasets()}
        rows = opened.reads.executions()
    finally:
        opened.store.close()
    return datasets, {str(r["uid"]): str(r["state"]) for r in rows}, {str(r["uid"]): str(r["dataset"]) for r in rows}


def profile_entries(name: str, storage: Path, store_url: str | None, registered: bool = True) -> list[Entry]:
    entries: list[Entry] = []
    known = _known(name, storage, store_url)
    datasets, executions, execution_dataset = known if known is not None else (set(), {}, {})

    def guard(path: Path) -> tuple[Path, str] | None:
        parts = path.relative_to(storage).parts
        if len(parts) >= 2 and parts[0] == "datasets":
            return storage, parts[1]
        if len(parts) >= 2 and parts[0] == "executions" and parts[1] in execution_dataset:
            return storage, execution_dataset[parts[1]]
        return None

    def add(kind: str, label: str, path: Path, status: str = "kept", note: str = "") -> None:
        entries.append(Entry(kind=kind, name=label, path=path, size=size_of(path), status=status, note=note,
                             profile=name, guard=guard(path)))

    for path in _children(storage):
        if path.name in _LOG_FILES:
            continue
        if path.name == "datasets":
            for folder in _children(path):
                if _TEMPORARY.search(folder.name):
                    continue
                if folder.name in datasets:
                    add("dataset", folder.name, folder, note="prepared data, statistics, logs")
                elif known is None:
                    add("dataset", folder.name, folder, note="this profile has no event log")
                else:
                    add("dataset", folder.name, folder, "orphaned", "no dataset of this profile's log")
        elif path.name == "executions":
            for folder in _children(path):
                if _TEMPORARY.search(folder.name):
                    continue
                state = executions.get(folder.name)
                if state == ExecutionState.STARTED:
                    add("result", folder.name, folder, note="interrupted run: the next benchmark run redoes it")
                elif state is not None:
                    add("result", folder.name, folder, note=f"{state}: predictions, metrics, logs")
                elif known is None:
                    add("result", folder.name, folder, note="this profile has no event log")
                else:
                    add("result", folder.name, folder, "orphaned", "no execution of this profile's log")
        elif path.name == "containers":
            for folder in _children(path):
                if not _TEMPORARY.search(folder.name):
                    add("container files", folder.name, folder, note="parameters and additional files (cache)")
        elif path.name == "local-server":
            add("local server", path.name, path, note="the `local` backend's database")
        elif path.name == "locks":
            add("locks", path.name, path, note="one file per command lock")
        elif path.name == "server-cache":
            add("server cache", path.name, path, note="benchmarks and containers last read, for --offline")
        elif not _TEMPORARY.search(path.name):
            add("other", path.name, path)
    log_size = sum(size_of(storage / f) for f in _LOG_FILES if (storage / f).exists())
    if log_size:
        entries.insert(0, Entry(kind="event log", name="events.db", path=storage / "events.db", size=log_size,
                                note="this machine's history", profile=name))
    orphaned = [e.path for e in entries if e.status == "orphaned"]
    entries += [attrs.evolve(e, guard=guard(e.path)) for e in _temporary_under(storage, "temporary", name)
                if not any(e.path.is_relative_to(p) for p in orphaned)]
    if not registered:
        entries = [attrs.evolve(e, note=(e.note + "; " if e.note else "") + "profile deleted") for e in entries]
    return entries


def sif_entries(root: Path, used: set[str] | None) -> list[Entry]:
    """SIF files by image digest; `used`: the digests registered containers have (None: not asked)."""
    entries = []
    for path in _children(root):
        if _TEMPORARY.search(path.name):
            continue
        if path.suffix != ".sif":
            continue
        digest = path.stem
        if used is not None and digest not in used:
            entries.append(Entry(kind="sif", name=path.name, path=path, size=size_of(path), status="unused",
                                 note="no registered container has this image"))
        else:
            entries.append(Entry(kind="sif", name=path.name, path=path, size=size_of(path), note="SIF cache"))
    return entries + _temporary_under(root, "temporary", "", depth=1)


def image_entries(used: set[str] | None) -> list[Entry]:
    """The engine images this home created (labelled so; never another's), as each runner plugin's `ImageOwner`
    lists them; `used`: the digests registered containers have (None: not asked, every image kept)."""
    from medperf_core.plugins import get_plugin_host

    owners = get_plugin_host().image_owners
    entries = []
    for owner in owners.names():
        for image in owners.get(owner)().owned_images():
            unused = used is not None and image.id.split(":")[-1] not in used
            entries.append(Entry(kind="image", name=image.name, path=Path(image.id), size=image.size,
                                 status="unused" if unused else "kept",
                                 note="no registered container has this image" if unused
                                 else f"{owner.capitalize()} image {image.how} by medperf", image=image,
                                 image_owner=owner))
    return entries


def scan(home: Path | None = None, used_images: set[str] | None = None) -> list[Entry]:
    """Everything under MEDPERF_HOME, and the Docker images it created. `used_images`: image digests (hex,
    without `sha256:`) of the registered containers, to tell unused SIFs and images; None keeps every one."""
    home = home or medperf_home()
    profiles = ProfileStore()
    names = set(profiles.names()) if profiles.path.exists() else set()
    entries: list[Entry] = []
    for path in _children(home):
        if path.name == "profiles":
            for folder in _children(path):
                if folder.name in names:
                    profile = profiles.get(folder.name)
                    entries += profile_entries(folder.name, folder, profile.store_url)
                else:
                    entries += profile_entries(folder.name, folder, None, registered=False)
        elif path.name == "sif":
            entries += sif_entries(path, used_images)
        elif path.name == "slurm":
            entries.append(Entry(kind="slurm", name=path.name, path=path, size=size_of(path),
                                 note="the Slurm runner's shared folder (SIFs, job folders)"))
        elif path.name == "server":
            entries.append(Entry(kind="server", name=path.name, path=path, size=size_of(path),
                                 note="a server's data (medperf server start)"))
        elif path.name == PULLED_FILE:
            entries.append(Entry(kind="image record", name=path.name, path=path, size=size_of(path),
                                 note="the Docker images medperf pulled, for cleanup --images"))
        elif path.name.startswith("profiles.json") and _TEMPORARY.search(path.name):
            entries.append(Entry(kind="temporary", name=path.name, path=path, size=size_of(path),
                                 status="temporary", note="left by an interrupted write"))
        elif path.name != "profiles.json":
            entries.append(Entry(kind="other", name=path.name, path=path, size=size_of(path)))
    return entries + image_entries(used_images)


def removable(entries: Iterable[Entry], *, sif: bool = False, images: bool = False) -> list[Entry]:
    """What `storage cleanup` removes: temporary and orphaned entries; unused SIFs only with `sif`, unused Docker
    images (of this home's) only with `images`."""
    return [e for e in entries
            if e.status in ("temporary", "orphaned") or (sif and e.kind == "sif" and e.status == "unused")
            or (images and e.kind == "image" and e.status == "unused")]


def in_use(entry: Entry) -> str | None:
    """Who holds the lock of the dataset this entry belongs to ("process N (`medperf …`, since …)"), or None."""
    from medperf_core.locks import held_by

    if entry.guard is None:
        return None
    storage, dataset = entry.guard
    return held_by(storage, streams.dataset(dataset))


def remove(entries: Iterable[Entry], say: Callable[[str], None] = print) -> int:
    """Delete the entries, each under its dataset's lock (an entry whose dataset another command holds is left
    alone, with a line naming that command); returns the bytes freed. A path already gone counts as removed."""
    from medperf_core.errors import ConflictError
    from medperf_core.locks import command_lock

    freed = 0
    for entry in entries:
        if entry.guard is None:
            freed += _remove_one(entry, say)
            continue
        storage, dataset = entry.guard
        try:
            with command_lock(storage, streams.dataset(dataset), f"dataset {dataset}"):
                freed += _remove_one(entry, say)
        except ConflictError as e:
            say(f"left {entry.path}: {e.message}")
    return freed


def _remove_one(entry: Entry, say: Callable[[str], None]) -> int:
    if entry.image is not None:
        from medperf_core.plugins import get_plugin_host

        refused = get_plugin_host().image_owners.get(entry.image_owner)().remove(entry.image)
        if refused:
            say(f"left image {entry.name}: {refused}")
            return 0
        say(f"removed image {entry.name} ({human(entry.size)})")
        return entry.size
    try:
        if entry.path.is_dir() and not entry.path.is_symlink():
            shutil.rmtree(entry.path)
        else:
            entry.path.unlink(missing_ok=True)
    except FileNotFoundError:
        return 0
    say(f"removed {entry.path} ({human(entry.size)})")
    return entry.size
