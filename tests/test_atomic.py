"""atomic_write publishes a file whole or not at all, and leaves no temporary file behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from medperf_core.atomic import atomic_path, atomic_write, atomic_write_bytes, write_text_atomically


def test_a_write_is_published_whole_with_the_asked_mode(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "profiles.json"
    write_text_atomically(target, "first", permissions=0o600)
    write_text_atomically(target, "second", permissions=0o600)
    assert target.read_text(encoding="utf-8") == "second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["profiles.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cache.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write("half")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


def test_the_target_is_unchanged_until_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "archive.tar"
    with atomic_path(target, prefix=".export-") as temp:
        temp.write_bytes(b"written by a program")
        assert not target.exists() and temp.parent == tmp_path and temp.name.startswith(".export-")
    assert target.read_bytes() == b"written by a program" and not temp.exists()


def test_an_exclusive_write_keeps_the_first_writers_file(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    with atomic_write_bytes(target, exclusive=True) as f:
        f.write(b"first")
    with atomic_write_bytes(target, exclusive=True) as f:
        f.write(b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]
