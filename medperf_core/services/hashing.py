"""MedPerf's dataset hash: sha256 of every file's sha256 hex digest, sorted, concatenated as text."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from medperf_core.errors import UserError


def file_hash(path: Path) -> str:
    """The sha256 hex digest of one file's bytes."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def folders_hash(folders: Iterable[Path]) -> str:
    """Every file under the folders (hidden ones too; links hashed by their target); names and order do not matter."""
    digests: list[str] = []
    for folder in folders:
        if folder.is_file():
            digests.append(file_hash(folder))
            continue
        for path in folder.rglob("*"):
            if path.is_file():
                try:
                    digests.append(file_hash(path))
                except OSError as e:
                    raise UserError(f"cannot read {path}: {e.strerror}", "check the file's permissions") from e
    return hashlib.sha256("".join(sorted(digests)).encode("ascii")).hexdigest()
