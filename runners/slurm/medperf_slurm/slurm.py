"""The Slurm commands this runner speaks: `sbatch --parsable`, `scontrol show job`, `squeue`, `scancel`, `sinfo`."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from medperf_core.errors import EngineUnavailableError, RunnerError

INSTALL_HINT = (
    "run medperf where Slurm is installed (a cluster's login node; https://slurm.schedmd.com/quickstart_admin.html); "
    "on one machine, in a source checkout, sudo scripts/install-engines.sh starts a one-node cluster"
)
ACTIVE_STATES = frozenset({"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"})
_COMMAND_TIMEOUT_S = 60.0


def slurm(args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one Slurm command; EngineUnavailableError when it is missing or the controller does not answer."""
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=_COMMAND_TIMEOUT_S
        )
    except OSError as e:
        raise EngineUnavailableError(f"cannot run {args[0]}: {e.strerror}", INSTALL_HINT) from e
    except subprocess.TimeoutExpired as e:
        raise EngineUnavailableError(
            f"{args[0]} did not answer within {_COMMAND_TIMEOUT_S:g} s", "check the Slurm controller (sinfo)"
        ) from e
    if check and done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise RunnerError(f"{' '.join(args[:2])} failed: {last[0][:300]}", "check the Slurm settings: sinfo, squeue")
    return done


def version() -> str:
    """`slurm 22.05.8`, or EngineUnavailableError when no controller answers."""
    done = slurm(["sinfo", "--version"], check=False)
    if done.returncode != 0:
        raise EngineUnavailableError("sinfo does not run", INSTALL_HINT)
    ping = slurm(["scontrol", "ping"], check=False)
    if ping.returncode != 0 or "UP" not in ping.stdout:
        raise EngineUnavailableError(
            f"the Slurm controller does not answer: {(ping.stdout + ping.stderr).strip()[:200]}", INSTALL_HINT
        )
    return done.stdout.strip()


def submit(script: Path, options: Sequence[str]) -> str:
    """Submit a batch script; its job id."""
    done = slurm(["sbatch", "--parsable", *options, str(script)])
    job_id = done.stdout.strip().split(";", 1)[0]
    if not job_id.isdigit():
        raise RunnerError(f"sbatch answered {done.stdout.strip()[:100]!r}, not a job id", "check sbatch by hand")
    return job_id


@attrs.frozen
class JobInfo:
    job_id: str
    state: str
    exit_code: int
    signal: int
    reason: str

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def job_info(job_id: str) -> JobInfo | None:
    """The job's state from `scontrol show job`, or None when Slurm no longer knows it."""
    done = slurm(["scontrol", "show", "job", "-o", job_id], check=False)
    if done.returncode != 0:
        if "Invalid job id" in done.stderr:
            return None
        raise RunnerError(f"scontrol show job {job_id} failed: {done.stderr.strip()[:200]}", "check: squeue")
    fields = dict(token.split("=", 1) for token in done.stdout.split() if "=" in token)
    code, _, sig = fields.get("ExitCode", "0:0").partition(":")
    return JobInfo(
        job_id,
        fields.get("JobState", "UNKNOWN"),
        int(code) if code.isdigit() else -1,
        int(sig) if sig.isdigit() else 0,
        fields.get("Reason", ""),
    )


def cancel(job_id: str) -> None:
    slurm(["scancel", job_id], check=False)


def canceller(job_id: str) -> Callable[[], None]:
    """`scancel job_id`, for a watchdog to run when the client dies."""
    return functools.partial(cancel, job_id)


def user_jobs(user: str) -> list[tuple[str, str, str]]:
    """(job id, name, comment) of the user's queued or running jobs."""
    done = slurm(["squeue", "-h", "-u", user, "-o", "%i|%j|%k"])
    jobs = []
    for line in done.stdout.splitlines():
        parts = line.split("|", 2)
        if len(parts) == 3:
            jobs.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return jobs


def partition_cpus(partition: str | None) -> int | None:
    """The usable CPUs of a partition (the default one when None), or None when unknown."""
    done = slurm(["sinfo", "-h", "-o", "%P %C"], check=False)
    total = 0
    for line in done.stdout.splitlines():
        name, _, cpus = line.strip().partition(" ")
        if name.rstrip("*") != partition if partition else not name.endswith("*"):
            continue
        parts = cpus.split("/")  # allocated/idle/other/total; "other" is drained or down
        if len(parts) == 4 and parts[3].isdigit() and parts[2].isdigit():
            total += int(parts[3]) - int(parts[2])
    return total or None
