"""The watchdog on real processes: it kills a process group when its client dies, and nothing when the client
releases it (the run ended) or when the group's pid now names another process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.containers.leftovers import start_time
from medperf_core.containers.watchdog import KILL_PROCESS_GROUP, Watchdog, kill_process_group
from medperf_core.errors import RunnerError
from medperf_core.testing.killed_client import GONE_WITHIN_S, alive, kill_and_time, wait_until

Process = tuple[int, str]


@pytest.fixture
def sleeper() -> Iterator[Process]:
    """A `sleep` leading its own process group, as a container's engine process does."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process.pid, start_time(process.pid)
    process.kill()
    process.wait()


_CLIENT = """\
import sys, time
from medperf_core.containers.watchdog import KILL_PROCESS_GROUP, Watchdog
watchdog = Watchdog.guard(KILL_PROCESS_GROUP, sys.argv[1], sys.argv[2])
print(watchdog.process.pid, flush=True)
if sys.argv[3] == "release":
    watchdog.release()
time.sleep(60)
"""


def _client(sleeper: Process, then: str) -> tuple[subprocess.Popen[str], Process]:
    """A client process guarding `sleeper`; it and its watchdog."""
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, str(sleeper[0]), sleeper[1], then], stdout=subprocess.PIPE, text=True
    )
    assert client.stdout is not None
    pid = int(client.stdout.readline())
    return client, (pid, start_time(pid))


def _zombie_or_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_killed_clients_process_group_is_killed_within_a_second(sleeper: Process) -> None:
    client, watchdog = _client(sleeper, "hold")
    gone_after = kill_and_time(client, lambda: not _zombie_or_gone(sleeper[0]))
    assert gone_after <= GONE_WITHIN_S, f"the group ran on {gone_after:.2f} s after its client died"
    wait_until(lambda: not alive({watchdog}), 10, "the watchdog to exit")


def test_a_released_watchdog_exits_and_kills_nothing_even_when_its_client_dies_later(sleeper: Process) -> None:
    client, watchdog = _client(sleeper, "release")
    wait_until(lambda: not alive({watchdog}), 10, "the watchdog to exit")
    client.send_signal(signal.SIGKILL)
    client.wait()
    assert alive({sleeper}), "the watchdog killed the group of a client that had released it"


def test_leaving_the_with_block_releases_on_errors_too(sleeper: Process) -> None:
    """A living client's own clean-up handles its errors: the watchdog is for death only."""
    with pytest.raises(KeyError), Watchdog.guard(KILL_PROCESS_GROUP, str(sleeper[0]), sleeper[1]) as watchdog:
        raise KeyError("boom")
    assert watchdog.process.wait(10) == 0
    assert alive({sleeper})


def test_a_group_whose_pid_names_a_later_process_is_left_alone(sleeper: Process) -> None:
    kill_process_group(str(sleeper[0]), "1")()  # started at tick 1: not this process
    assert alive({sleeper})
    kill_process_group(str(sleeper[0]), sleeper[1])()
    wait_until(lambda: _zombie_or_gone(sleeper[0]), 5, "the group to die")


def test_the_watchdog_is_in_its_own_session_and_holds_no_write_end(sleeper: Process) -> None:
    """A Ctrl-C to the client's terminal does not reach it, and its pipe closes when the client dies."""
    with Watchdog.guard(KILL_PROCESS_GROUP, str(sleeper[0]), sleeper[1]) as watchdog:
        pid = watchdog.process.pid
        assert os.getsid(pid) == pid != os.getsid(0)
        pipes = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        assert sum(p.startswith("pipe:") for p in pipes) == 1, pipes  # the read end (0-2 are /dev/null)


def test_a_watchdog_that_cannot_start_is_a_runner_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(RunnerError, match="cannot start the watchdog that stops the container") as info:
        Watchdog.guard(KILL_PROCESS_GROUP, "1", "1")
    assert info.value.hint and "run again" in info.value.hint
