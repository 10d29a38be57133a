"""Containers never outlive their client: every run is labelled with the client process that started it, and a
runner removes, when it starts, what clients that no longer run left behind (killed by SIGKILL, power loss)."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

LABEL_OWNER = "org.medperf.client"  # "<host>:<pid>:<start time>" of the client process
ENV_OWNER = "MEDPERF_CONTAINER_OF"  # the same, in the environment of an Apptainer container's processes
LABEL_RUN = "org.medperf.run"  # MEDPERF_RUN_LABEL when set: lets a test find its own containers among others'
ENV_RUN = "MEDPERF_RUN_LABEL"


def labels() -> dict[str, str]:
    """The labels of a container this client starts: its owner, and the run label when one is set."""
    run = os.environ.get(ENV_RUN, "").strip()
    return {LABEL_OWNER: owner(), **({LABEL_RUN: run} if run else {})}


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a reused pid from the original)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{start_time(pid)}"


def owner_alive(value: str) -> bool:
    """Whether the client named by `value` still runs; True for another host's clients (not ours to judge)."""
    host, _, rest = value.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start_time(pid) == start


def orphaned_process_groups() -> list[int]:
    """The process groups of Apptainer runs started for a client that no longer runs. Apptainer's starter replaces
    its own environment, so the owner is found in the container's processes, which get it with `--env`."""
    found: set[int] = set()
    marker = f"{ENV_OWNER}=".encode()
    mine = os.getpgid(0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        for item in environ.split(b"\0"):
            if item.startswith(marker) and not owner_alive(item[len(marker):].decode(errors="replace")):
                with contextlib.suppress(ProcessLookupError):
                    group = os.getpgid(int(entry.name))
                    if group != mine:
                        found.add(group)
                break
    return sorted(found)
