"""The Slurm runner: the Apptainer runner's command and SIF cache, run as one batch job per task on the cluster."""

from __future__ import annotations

import shlex
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path
from types import FrameType

from medperf_singularity.runner import SingularityRunner

from medperf_core.containers import cancel
from medperf_core.containers.execution import ImageDefaults, PreparedRun, fail
from medperf_core.containers.logs import LogSink
from medperf_core.containers.watchdog import Watchdog
from medperf_core.errors import RunnerError
from medperf_slurm import slurm
from medperf_slurm.orphans import JOB_NAME_PREFIX, cancel_orphans, client_comment
from medperf_slurm.settings import SlurmSettings

_POLL_MIN_S = 0.05
_POLL_MAX_S = 0.5
_GONE_WAIT_S = 30.0
_DONE_STATES = {"COMPLETED", "FAILED"}
_CANCEL_JOB = "medperf_slurm.slurm:canceller"


class SlurmRunner(SingularityRunner):
    """Runs each task as `sbatch` job: `apptainer exec` of the task's SIF (built once into the shared folder)."""

    name = "slurm"

    def __init__(self, settings: SlurmSettings | None = None) -> None:
        super().__init__()
        self._settings = settings
        self.cancelled_orphans: list[str] = []
        _cancel_on_sigterm()

    @property
    def settings(self) -> SlurmSettings:
        if self._settings is None:
            self._settings = SlurmSettings.from_profile()
        return self._settings

    def sif_dir(self) -> Path:
        return self.settings.root / "sif"

    def check_available(self) -> None:
        """A Slurm controller that answers, Apptainer and Docker here (SIFs are built on this machine)."""
        slurm.version()
        # Through Slurm first: the Apptainer check below would otherwise kill a dead client's job from inside (its
        # container processes name their client too), on this node only
        self.cancelled_orphans = cancel_orphans()
        super().check_available()

    def default_parallel(self) -> int:
        """As many tasks at once as the partition has CPUs for (`benchmark run` without --parallel)."""
        cpus = slurm.partition_cpus(self.settings.partition)
        return max(1, cpus // (self.settings.cpus or 1)) if cpus else 1

    def _command(self, prepared: PreparedRun, sif: str, image: ImageDefaults) -> list[str]:
        command = super()._command(prepared, sif, image)
        if self.settings.gpus and "--nv" not in command:
            command.insert(2, "--nv")  # after `singularity exec`
        return command

    def _execute(self, command: list[str], prepared: PreparedRun) -> tuple[int, float]:
        request = prepared.request
        timeout = self.settings.timeout(request.timeout)
        name = f"{JOB_NAME_PREFIX}{prepared.task.name}"
        job_dir = self.settings.root / "jobs" / f"{name}-{uuid.uuid4().hex[:12]}"
        job_dir.mkdir(parents=True, mode=0o700)
        try:
            script = job_dir / "job.sh"
            script.write_text(job_script(command), encoding="utf-8")
            options = [
                f"--job-name={name}",
                f"--comment={client_comment()}",
                f"--output={job_dir / 'output.log'}",
                f"--chdir={job_dir}",
                "--nodes=1",
                "--ntasks=1",
                *self.settings.sbatch_options(timeout),
            ]
            with LogSink(request.log_path, echo=request.show_logs) as sink:
                job = _Job(slurm.submit(script, options), job_dir, sink, prepared)
                try:
                    watchdog = Watchdog.guard(_CANCEL_JOB, job.job_id)  # a SIGKILLed client's job is cancelled
                except BaseException:
                    slurm.cancel(job.job_id)
                    raise
                with watchdog:
                    return job.wait(timeout)
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)


def job_script(command: list[str]) -> str:
    """The batch script: the container command; its exit code also lands in a file in case Slurm forgets the job."""
    return (
        "#!/bin/sh\n"
        f"{shlex.join(command)}\n"
        "rc=$?\n"
        'echo "$rc" > exit_code.tmp && mv exit_code.tmp exit_code\n'
        'exit "$rc"\n'
    )


class _Job:
    """One submitted job: its output file streamed into the log while it runs, its end read from Slurm."""

    def __init__(self, job_id: str, job_dir: Path, sink: LogSink, prepared: PreparedRun) -> None:
        self.job_id = job_id
        self.job_dir = job_dir
        self.sink = sink
        self.prepared = prepared
        self._offset = 0

    def _copy_output(self) -> None:
        try:
            with (self.job_dir / "output.log").open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        if data:
            self._offset += len(data)
            self.sink.write(data)

    def wait(self, timeout: float | None) -> tuple[int, float]:
        submitted = time.monotonic()
        started: float | None = None
        poll = _POLL_MIN_S
        try:
            while True:
                info = slurm.job_info(self.job_id)
                self._copy_output()
                if info is None or not info.active:
                    break
                now = time.monotonic()
                if started is None and info.state != "PENDING":
                    started = now
                if timeout is not None and started is not None and now - started > timeout:
                    self._kill()
                    self.sink.note(f"timed out after {timeout:g} s; Slurm job {self.job_id} cancelled")
                    raise fail(self.prepared, f"timed out after {timeout:g} s and was killed")
                if cancel.cancelled() or not threading.main_thread().is_alive():
                    raise RunnerError(f"interrupted; Slurm job {self.job_id} cancelled")
                time.sleep(poll)
                poll = min(_POLL_MAX_S, poll * 1.5)
        except BaseException:  # Ctrl-C, SIGTERM, an interrupted benchmark: the job must not run on
            slurm.cancel(self.job_id)
            raise
        duration = max(time.monotonic() - (started or submitted), 1e-3)
        self._copy_output()
        return self._exit_code(info), duration

    def _kill(self) -> None:
        slurm.cancel(self.job_id)
        deadline = time.monotonic() + _GONE_WAIT_S
        while time.monotonic() < deadline:
            info = slurm.job_info(self.job_id)
            if info is None or not info.active:
                break
            time.sleep(_POLL_MIN_S * 4)
        self._copy_output()

    def _exit_code(self, info: slurm.JobInfo | None) -> int:
        if info is None:  # Slurm forgot the job (MinJobAge): the script wrote its exit code
            try:
                return int((self.job_dir / "exit_code").read_text().strip())
            except (OSError, ValueError):
                raise fail(self.prepared, f"ended, but Slurm no longer knows job {self.job_id}") from None
        if info.state in _DONE_STATES:
            return info.exit_code if info.exit_code or not info.signal else 128 + info.signal
        if info.state == "TIMEOUT":
            self.sink.note(f"Slurm job {self.job_id} reached its time limit")
            raise fail(self.prepared, f"timed out (Slurm job {self.job_id} reached its time limit) and was killed")
        if info.state == "OUT_OF_MEMORY":
            raise fail(self.prepared, f"ran out of memory (Slurm job {self.job_id}); raise --slurm-memory")
        self.sink.note(f"Slurm job {self.job_id} ended in state {info.state} ({info.reason})")
        raise fail(self.prepared, f"ended in Slurm state {info.state} (job {self.job_id}, reason {info.reason})")


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _cancel_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C (running jobs are cancelled) instead of killing the client on the spot."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
