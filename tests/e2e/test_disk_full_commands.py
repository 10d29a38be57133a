"""A whole command on a full disk: MEDPERF_HOME on a small tmpfs (root only, as in CI), the real CLI, a real server
and Docker. `dataset prepare` and `benchmark run` fail with one line naming the full disk and the free space,
record nothing half-way, and the same command succeeds once space is freed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _e2e import Tutorial, require_platform

from medperf_core.testing.tmpfs import tmpfs_home

SIZE_MB = 24


@pytest.fixture()
def small_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tmpfs_home(tmp_path / "tmpfs-home", SIZE_MB, monkeypatch) as mount:
        yield mount


def fill(home: Path, leave_kb: int) -> Path:
    """Take all of the tmpfs but `leave_kb` KiB."""
    filler = home / "filler"
    free = os.statvfs(home).f_bavail * os.statvfs(home).f_frsize
    with filler.open("wb") as f:
        f.truncate(0)
        remaining = max(free - leave_kb * 1024, 0)
        chunk = b"\0" * 2**20
        while remaining > 0:
            remaining -= f.write(chunk[: min(len(chunk), remaining)])
    return filler


def full(t: Tutorial, *args: str) -> str:
    """Run a command that must fail on the full disk; its one error line."""
    done = t.medperf(*args, ok=False)
    assert done.returncode == 9, f"{args} → {done.returncode}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    assert f"no space left on device under MEDPERF_HOME ({t.home}): free " in lines[0], lines[0]
    assert "MB" in lines[0] and "run the same command again" in lines[0], lines[0]
    return lines[0]


def types(t: Tutorial) -> list[str]:
    return [e["type"] for e in t.events()]


def test_a_full_disk_stops_prepare_and_run_cleanly_and_they_resume(tmp_path: Path, small_home: Path) -> None:
    require_platform("docker")
    t = Tutorial(tmp_path / "t", small_home)
    try:
        t.submit()
        before = types(t)
        filler = fill(small_home, leave_kb=64)
        full(t, "dataset", "prepare", "--data_uid", "1", "-y")
        filler.unlink()
        # nothing recorded half-way: at most that it started (and failed), never a finished step
        assert set(types(t)[len(before):]) <= {"dataset.report_updated", "dataset.preparation_failed"}, types(t)
        prepared = [p for p in small_home.rglob("*") if p.is_dir() and p.name == "data" and "datasets" in p.parts]
        assert all(not any(p.iterdir()) for p in prepared), prepared  # no half-written prepared data either
        t.prepare()
        assert types(t).count("dataset.prepared") == 1
        t.operational()
        t.associate()
        t.approve_dataset()
        before = types(t)
        filler = fill(small_home, leave_kb=64)
        full(t, "benchmark", "run", "--benchmark", "1", "--data_uid", "1")
        filler.unlink()
        after = types(t)
        assert after.count("execution.finished") == before.count("execution.finished"), after
        run = t.medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1").stdout
        assert "✅ Done!" in run and "0 failed" in run, run
        for command in (("events", "verify"), ("events", "replay", "--check-only")):
            t.medperf(*command)
    finally:
        t.close()
