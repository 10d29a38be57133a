"""A container dies with its client: a small detached process waits for the client's death and then removes it.

The client holds the write end of a pipe, the watchdog blocks reading its read end. When the client ends a run it
writes one byte and closes the pipe: the watchdog exits without doing anything. When the client dies (SIGKILL, a
crash) the kernel closes the write end, the watchdog reads end-of-file with no byte, runs its action (remove the
container, kill the process group, cancel the job) and exits. It runs in its own session, so a Ctrl-C or a kill of
the client's process group leaves it to do its job.

An action is "module:function". The watchdog calls `function(*args)` before it waits (imports, connections: the
slow part, done while the container runs) and, if the client dies, the callable that call returned. An action that
fails leaves the container to the next runner's start, which removes what dead clients left (`leftovers`).

    with Watchdog.guard(KILL_PROCESS_GROUP, str(pid), start_time(pid)):
        ...  # wait for the container; the client's own `finally` cleans up as usual

Run as `python -m medperf_core.containers.watchdog FD MODULE:FUNCTION ARG...`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from types import TracebackType

from medperf_core.containers.leftovers import start_time
from medperf_core.errors import RunnerError

RELEASE = b"r"  # the client's word that the run ended with it alive: do nothing
KILL_PROCESS_GROUP = "medperf_core.containers.watchdog:kill_process_group"


class Watchdog:
    """The client's side: the write end of the pipe, held while a container runs."""

    def __init__(self, process: subprocess.Popen[bytes], write_fd: int) -> None:
        self.process = process
        self._write_fd: int | None = write_fd

    @classmethod
    def guard(cls, action: str, *args: str) -> Watchdog:
        """Start a watchdog that runs `action` ("module:function" of `args`) if this process dies before release."""
        read_fd, write_fd = os.pipe()  # both close-on-exec: no container process inherits the write end
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(read_fd), action, *args],
                pass_fds=(read_fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # outside the client's process group and terminal: it outlives both
            )
        except OSError as e:  # no process to spare: no container should start either
            os.close(write_fd)
            raise RunnerError(
                f"cannot start the watchdog that stops the container if medperf is killed: {e.strerror}",
                "free some processes or open files (ulimit -u, ulimit -n), then run again",
            ) from e
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)
        return cls(process, write_fd)

    def release(self) -> None:
        """The run is over and this client alive: the watchdog exits without acting. Idempotent."""
        fd, self._write_fd = self._write_fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):  # the watchdog already gone: nothing to tell
            os.write(fd, RELEASE)
        os.close(fd)

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()  # on errors too: a living client's own clean-up runs, only death is the watchdog's job


def kill_process_group(pgid: str, leader_start: str) -> Callable[[], None]:
    """SIGKILL the process group `pgid`, unless its leader's pid now names another process (started later)."""
    group = int(pgid)

    def kill() -> None:
        now = start_time(group)
        if now and now != leader_start:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)

    return kill


def _armed(action: str, args: list[str]) -> Callable[[], object]:
    module, _, function = action.partition(":")
    arm: Callable[..., Callable[[], object]] = getattr(importlib.import_module(module), function)
    return arm(*args)


def _released(fd: int) -> bool:
    """Block until the client closes its end; whether it said RELEASE first."""
    seen = b""
    while chunk := os.read(fd, 64):
        seen += chunk
    return RELEASE in seen


def main(argv: list[str]) -> int:
    fd, action, *args = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the client's to handle
    act = _armed(action, args)  # before waiting: acting after the client's death must be quick
    if not _released(int(fd)):
        act()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
