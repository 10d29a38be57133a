"""The runner waits for a task in one blocking call, without polling, and a timer kills it at the deadline."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import pytest
from medperf_singularity.runner import wait_or_kill


def start(script: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sh", "-c", script], start_new_session=True)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_task_that_ends_is_seen_at_once_without_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[Any] = []
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: (slept.append(seconds), real_sleep(seconds)))
    process = start("sleep 0.3; exit 3")
    assert wait_or_kill(process, timeout=30) == (3, False)
    assert slept == []  # Popen.wait(timeout=...) sleeps between looks, up to 50 ms each


def test_the_deadline_kills_the_whole_process_group() -> None:
    process = start("sleep 30 & sleep 30; wait")  # a child in the group, as a container's processes are
    started = time.monotonic()
    exit_code, timed_out = wait_or_kill(process, timeout=0.5)
    assert timed_out and exit_code != 0
    assert 0.5 <= time.monotonic() - started < 10
    deadline = time.monotonic() + 5
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not group_alive(process.pid)


def test_a_task_done_before_the_deadline_is_never_killed_afterwards() -> None:
    process = start("exit 0")
    assert wait_or_kill(process, timeout=0.3) == (0, False)
    time.sleep(0.5)  # past the deadline: the cancelled timer does nothing


def test_no_timeout_waits_as_long_as_it_takes() -> None:
    assert wait_or_kill(start("sleep 0.2; exit 5"), timeout=None) == (5, False)
