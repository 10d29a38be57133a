"""The server's stored files: container configs, parameters, additional-files tarballs, demo dataset tarballs.

Content-addressed: a file is kept once under its sha256 (`<root>/<hex>`), so storing the same bytes twice is the
same file at the same URL. Each upload is written to a private temporary file while it is hashed, then published
with one rename, so concurrent uploads and readers never see a half-written file. Files that no registered entity
references are removed once older than a grace period (`collect`), which leaves time for the registration that
follows an upload."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import attrs

from medperf_core.errors import NotFoundError, TooLargeError

FILES_DIR = "files"  # under the server's data directory
# One upload at most, by default. What is stored here: container configs and parameters (kilobytes), additional
# files tarballs (a model's weights: tens of MB for most models) and demo dataset tarballs (a few MB, meant to be
# downloaded by everyone). 100 MB holds all of these with room, keeps a signed-in user from filling the disk with a
# few requests, and leaves larger weights to a host made for them (the container registers their URL instead).
MAX_FILE_MB = 100
GRACE_HOURS = 168.0  # an unreferenced file is kept a week: a client's registration may be retried days later
MB = 1024 * 1024
_CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ANY_HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def too_large(max_bytes: int) -> TooLargeError:
    return TooLargeError(
        f"the file is larger than this server's limit of {max_bytes / MB:g} MB",
        "publish it elsewhere and register its URL, or ask the operator to raise --max-file-mb "
        "(MEDPERF_SERVER_MAX_FILE_MB)",
    )


@attrs.frozen
class StoredFile:
    sha256: str
    size: int
    path: Path

    def describe(self, url: str) -> dict[str, object]:
        """The upload's answer: where the file is served, its sha256 and its size in bytes."""
        return {"url": url, "sha256": self.sha256, "size": self.size}


class FileStore:
    """Files kept by their sha256 under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, source: BinaryIO, *, max_bytes: int = MAX_FILE_MB * MB) -> StoredFile:
        """Store the stream's bytes (once per content); TooLargeError past `max_bytes`, read no further."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.root / sha
            try:
                os.utime(final)  # stored already: uploaded again now, so its grace period starts again
            except FileNotFoundError:
                os.chmod(temp, 0o644)
                os.replace(temp, final)  # same bytes under the same name: replacing a concurrent copy is harmless
            return StoredFile(sha, size, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def save_path(self, path: Path) -> StoredFile:
        with path.open("rb") as f:
            return self.save(f)

    def find(self, sha256: str) -> StoredFile:
        """The stored file with this sha256 (lower-case hex); NotFoundError otherwise."""
        if not _HEX64.match(sha256):
            raise NotFoundError(f"no stored file {sha256[:80]!r}: a file is named by its sha256 (64 hex digits)")
        path = self.root / sha256
        if not path.is_file():
            raise NotFoundError(f"no stored file with sha256 {sha256}")
        return StoredFile(sha256, path.stat().st_size, path)

    def collect(self, referenced: set[str], grace_hours: float, *, dry_run: bool = False) -> list[StoredFile]:
        """Remove the stored files whose sha256 is not in `referenced` and that were last uploaded more than
        `grace_hours` ago (and leftovers of uploads cut short as long ago); returns what was (or would be) removed."""
        if not self.root.is_dir():
            return []
        older_than = time.time() - grace_hours * 3600
        removed: list[StoredFile] = []
        for path in self.root.iterdir():
            name = path.name
            if not (_HEX64.match(name) and name not in referenced) and not name.startswith(".upload-"):
                continue
            try:
                stat = path.stat()
                if stat.st_mtime > older_than or not path.is_file():
                    continue
                if not dry_run:
                    path.unlink()
            except FileNotFoundError:  # removed meanwhile (another worker's collection)
                continue
            removed.append(StoredFile(name, stat.st_size, path))
        return removed


def referenced_hashes(texts: Iterable[str]) -> set[str]:
    """Every sha256 (64 lower-case hex digits) named in the texts: hash fields, and `/files/<sha256>` URLs."""
    return {m.group(0) for text in texts for m in _ANY_HEX64.finditer(text.lower())}


def file_url(base: str, sha256: str) -> str:
    """The absolute URL of a stored file, under the server's public base URL (`https://host[:port]`)."""
    from medperf_core.endpoints import endpoint
    from medperf_core.server.app import API_PREFIX

    return f"{base.rstrip('/')}{API_PREFIX}{endpoint('download_file').url((sha256,)).rstrip('/')}"
