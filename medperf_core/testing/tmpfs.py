"""A small tmpfs as MEDPERF_HOME, for the tests of a full disk (root only, as in CI)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs_home(mount: Path, size_mb: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Mount a tmpfs of `size_mb` MiB at `mount` (made here), make it MEDPERF_HOME, and unmount it afterwards.

    Skips the test when the tmpfs cannot be mounted (mounting needs root)."""
    mount.mkdir()
    mounted = (
        os.geteuid() == 0
        and not subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)]).returncode
    )
    if not mounted:
        pytest.skip("mounting a tmpfs needs root")
    monkeypatch.setenv("MEDPERF_HOME", str(mount))
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
