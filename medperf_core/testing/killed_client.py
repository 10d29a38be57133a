"""A client killed with SIGKILL in the middle of a container run, for the runners' tests: start a process that runs
one task with a runner, wait until its container runs, SIGKILL it, and measure how long what it left takes to go.

    client = start_client(DockerRunner, (), request)
    wait_until(lambda: bool(running()), 60)
    gone_after = kill_and_time(client, lambda: bool(running()))
    assert gone_after <= GONE_WITHIN_S
"""

from __future__ import annotations

import math
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from medperf_core.containers.leftovers import start_time
from medperf_core.containers.runner import Runner, RunRequest, RunResult

GONE_WITHIN_S = 1.0  # the bound: nothing the client started runs one second after its death
_WATCH_S = 3.0  # how long a test looks, so a late removal is measured rather than cut off

_CLIENT = """\
import pickle, sys
factory, args, request = pickle.loads(sys.stdin.buffer.read())
factory(*args).run(request)
"""


def start_client(
    factory: Callable[..., object], args: Sequence[object], request: RunRequest, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A Python process that builds `factory(*args)` (a runner) and runs `request` with it."""
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT], stdin=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    assert client.stdin is not None
    client.stdin.write(pickle.dumps((factory, tuple(args), request)))
    client.stdin.close()
    return client


def wait_until(predicate: Callable[[], bool], timeout: float, what: str = "the container to start") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def kill_and_time(client: subprocess.Popen[bytes], still_running: Callable[[], bool]) -> float:
    """SIGKILL the client; seconds from its death until `still_running()` turns False (inf: not within 3 s)."""
    client.send_signal(signal.SIGKILL)
    client.wait()
    died = time.monotonic()
    while time.monotonic() - died < _WATCH_S:
        if not still_running():
            return time.monotonic() - died
        time.sleep(0.05)
    return math.inf


Process = tuple[int, str]  # pid and start time: a pid reused by a later process is not the same process


def _parent_and_state(pid: int) -> tuple[int, str] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0]


def descendants(root: int) -> set[Process]:
    """Every living process below `root` (children, their children, ...), zombies excluded."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _parent_and_state(int(entry.name))) and found[1] != "Z":
            children.setdefault(found[0], []).append(int(entry.name))
    seen: set[Process] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        seen.add((pid, start_time(pid)))
        todo += children.get(pid, [])
    return seen


def alive(processes: set[Process]) -> set[Process]:
    """Those of `processes` still running (zombies count as ended)."""
    return {
        (pid, started)
        for pid, started in processes
        if (found := _parent_and_state(pid)) and found[1] != "Z" and start_time(pid) == started
    }


def slurm_job_processes(job_id: str) -> set[Process]:
    """The processes of a Slurm job's batch step on this node: its slurmstepd and everything below it."""
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if argv.startswith(f"slurmstepd: [{job_id}.batch]".encode()):
            pid = int(entry.name)
            return {(pid, start_time(pid)), *descendants(pid)}
    return set()


def watchdogs(processes: set[Process]) -> set[Process]:
    """The watchdogs among `processes`."""
    found = set()
    for pid, started in processes:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"medperf_core.containers.watchdog" in argv:
            found.add((pid, started))
    return found


def watched_run(runner: Runner, request: RunRequest) -> tuple[RunResult, set[Process]]:
    """Run `request` in this process (a client that ends normally); its result and the watchdogs seen meanwhile."""
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(runner.run(request))
        except BaseException as e:
            errors.append(e)

    before = watchdogs(descendants(os.getpid()))
    worker = threading.Thread(target=run)
    worker.start()
    seen: set[Process] = set()
    while worker.is_alive():
        seen |= watchdogs(descendants(os.getpid())) - before
        time.sleep(0.05)
    if errors:
        raise errors[0]
    return results[0], seen
