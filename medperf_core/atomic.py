"""Atomic file writes: write a temporary file beside the target, fsync it, then publish it under its name in one
rename, so a reader (or a crash) never sees a half-written file and a failed write leaves only the old one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def fsync_path(path: Path) -> None:
    """Flush a file's bytes to the disk (its data must be durable before a rename publishes it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(
    target: Path, *, prefix: str | None = None, permissions: int | None = None, exclusive: bool = False
) -> Iterator[Path]:
    """A new temporary path beside `target` (an empty file, 0600): whatever the block writes there (itself, or a
    program it runs) is published as `target` when the block ends without an error; on an error it is deleted.

    `exclusive`: publish only if `target` does not exist yet (a hard link, which fails when the name is taken;
    the first writer wins and later ones keep its file). `permissions`: the published file's mode."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=prefix or f".{target.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        fsync_path(temp)
        if permissions is not None:
            os.chmod(temp, permissions)
        if exclusive:
            with contextlib.suppress(FileExistsError):
                os.link(temp, target)
        else:
            os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(
    target: Path, *, prefix: str | None = None, permissions: int | None = None, exclusive: bool = False
) -> Iterator[IO[str]]:
    """A text file (UTF-8) to write `target` through; see `atomic_path`."""
    with atomic_path(target, prefix=prefix, permissions=permissions, exclusive=exclusive) as temp, \
            temp.open("w", encoding="utf-8") as f:
        yield f


@contextlib.contextmanager
def atomic_write_bytes(
    target: Path, *, prefix: str | None = None, permissions: int | None = None, exclusive: bool = False
) -> Iterator[IO[bytes]]:
    """A binary file to write `target` through; see `atomic_path`."""
    with atomic_path(target, prefix=prefix, permissions=permissions, exclusive=exclusive) as temp, \
            temp.open("wb") as f:
        yield f


def write_text_atomically(target: Path, text: str, *, permissions: int | None = None) -> None:
    """`target` holds `text`, whole, or keeps what it held."""
    with atomic_write(target, permissions=permissions) as f:
        f.write(text)
