"""MedPerf's dataset hash: sha256 of every file's sha256 hex digest, sorted, concatenated as text.

Files are hashed in parallel threads: hashlib releases the GIL while it digests a buffer, so several files are read
and digested at once (on a disk that serves parallel reads and on more than one core). The result does not depend
on the order, so it is the same digest as hashing one file after the other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from medperf_core.errors import UserError

HASH_THREADS_ENV = "MEDPERF_HASH_THREADS"
# Called after each file with (bytes done so far, bytes in all); a progress display hangs off it.
Progress = Callable[[int, int], None]


def file_hash(path: Path) -> str:
    """The sha256 hex digest of one file's bytes."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _checked_hash(path: Path) -> str:
    try:
        return file_hash(path)
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}", "check the file's permissions") from e


def list_files(folders: Iterable[Path]) -> list[Path]:
    """Every regular file under the folders (hidden ones too, links followed to files), or the path itself if a
    file."""
    found: list[Path] = []
    for folder in folders:
        if folder.is_file():
            found.append(folder)
            continue
        for directory, _, names in os.walk(folder):
            for name in names:
                path = Path(directory, name)
                if path.is_file():
                    found.append(path)
    return found


def default_threads() -> int:
    """MEDPERF_HASH_THREADS if set, else two per core (one reads while the other digests), at most 16."""
    configured = os.environ.get(HASH_THREADS_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise UserError(f"{HASH_THREADS_ENV}={configured!r} is not a number",
                            f"set {HASH_THREADS_ENV} to a thread count such as 4, or unset it") from None
    return max(1, min(16, 2 * (os.cpu_count() or 1)))


def combine(digests: Iterable[str]) -> str:
    """The dataset hash of these file digests."""
    return hashlib.sha256("".join(sorted(digests)).encode("ascii")).hexdigest()


def folders_hash(folders: Iterable[Path], *, threads: int | None = None, progress: Progress | None = None) -> str:
    """Every file under the folders (hidden ones too; links hashed by their target); names and order do not
    matter. `threads`: how many files are hashed at once (default: `default_threads()`)."""
    files = list_files(folders)
    workers = threads or default_threads()
    sizes = [_size(p) for p in files] if progress else []
    total, done = sum(sizes), 0
    digests: list[str] = []
    if workers == 1 or len(files) < 2:
        for index, path in enumerate(files):
            digests.append(_checked_hash(path))
            if progress:
                done += sizes[index]
                progress(done, total)
        return combine(digests)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="medperf-hash") as pool:
        # map keeps at most the pool's queue of futures; results arrive in order, which only the progress needs
        for index, digest in enumerate(pool.map(_checked_hash, files)):
            digests.append(digest)
            if progress:
                done += sizes[index]
                progress(done, total)
    return combine(digests)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
