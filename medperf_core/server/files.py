"""The server's stored files: container configs, parameters, additional-files tarballs, demo dataset tarballs.

Content-addressed: a file is kept once under its sha256 (`<root>/<hex>`), so storing the same bytes twice is the
same file at the same URL. Each upload is written to a private temporary file while it is hashed, then published
with one rename, so concurrent uploads and readers never see a half-written file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

import attrs

from medperf_core.errors import NotFoundError, UserError

FILES_DIR = "files"  # under the server's data directory
MAX_FILE_BYTES = 4 * 1024**3  # one upload; container files and demo tarballs are far smaller
_CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


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

    def save(self, source: BinaryIO, *, max_bytes: int = MAX_FILE_BYTES) -> StoredFile:
        """Store the stream's bytes (once per content); refuses more than `max_bytes`."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UserError(
                            f"the file is larger than {max_bytes} bytes", "store it elsewhere and register its URL"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.root / sha
            if not final.exists():
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


def file_url(base: str, sha256: str) -> str:
    """The absolute URL of a stored file, under the server's public base URL (`https://host[:port]`)."""
    from medperf_core.endpoints import endpoint
    from medperf_core.server.app import API_PREFIX

    return f"{base.rstrip('/')}{API_PREFIX}{endpoint('download_file').url((sha256,)).rstrip('/')}"
