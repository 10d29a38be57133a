"""Jobs left behind by a killed client: every job's comment names its client; the next start cancels orphans."""

from __future__ import annotations

import os
import pwd
import socket
from pathlib import Path

from medperf_slurm import slurm

JOB_NAME_PREFIX = "medperf-"
_COMMENT_PREFIX = "medperf-client:"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a reused pid from the original), or ""."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def client_comment(pid: int | None = None) -> str:
    """`medperf-client:<host>:<pid>:<start time>` of this process."""
    pid = os.getpid() if pid is None else pid
    return f"{_COMMENT_PREFIX}{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _is_orphan(comment: str) -> bool:
    """A job of a client on this host that is no longer running; clients on other hosts are never judged."""
    if not comment.startswith(_COMMENT_PREFIX):
        return False
    host, _, rest = comment[len(_COMMENT_PREFIX) :].partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if not started:  # the client's start time was unknown: only a dead pid tells
        return not Path(f"/proc/{pid}").exists()
    return _start_time(int(pid)) != started


def current_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def cancel_orphans() -> list[str]:
    """Cancel this user's medperf jobs whose client on this host died; their ids."""
    found = [
        job_id
        for job_id, name, comment in slurm.user_jobs(current_user())
        if name.startswith(JOB_NAME_PREFIX) and _is_orphan(comment)
    ]
    for job_id in found:
        slurm.cancel(job_id)
    return found
