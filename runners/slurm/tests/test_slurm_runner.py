"""The Slurm runner passes the runner contract on a real cluster; interrupts and dead clients cancel their jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from medperf_singularity.sif import sif_path
from medperf_slurm import slurm
from medperf_slurm.orphans import current_user
from medperf_slurm.runner import SlurmRunner
from medperf_slurm.settings import SlurmSettings

from medperf_core.containers import cancel
from medperf_core.containers.config import ContainerConfig
from medperf_core.errors import RunnerError
from medperf_core.testing.formats_contract import FormatsContract
from medperf_core.testing.killed_client import (
    GONE_WITHIN_S,
    alive,
    descendants,
    kill_and_time,
    slurm_job_processes,
    watchdogs,
    watched_run,
)
from medperf_core.testing.runner_contract import RunnerContract, require_engine

pytestmark = pytest.mark.slurm


@pytest.fixture(autouse=True)
def slurm_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """One MEDPERF_HOME (and shared folder) for the module, so the SIF is built once, but never the user's."""
    home = tmp_path_factory.getbasetemp() / "slurm-medperf-home"
    monkeypatch.setenv("MEDPERF_HOME", str(home))
    monkeypatch.delenv("MEDPERF_PROFILE", raising=False)
    cancel.reset()
    yield home
    cancel.reset()


@pytest.fixture
def shared(slurm_home: Path) -> Path:
    return slurm_home / "shared"


def _jobs(marker: str) -> list[tuple[str, str, str]]:
    return [job for job in slurm.user_jobs(current_user()) if marker in job[2]]


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


class TestSlurmFormats(FormatsContract):
    """The Apptainer command (the image's ENTRYPOINT and CMD resolved the same way) inside Slurm jobs."""

    @pytest.fixture
    def runner(self, shared: Path) -> SlurmRunner:
        return require_engine(SlurmRunner(SlurmSettings(shared_dir=shared)))


class TestSlurmRunner(RunnerContract):
    @pytest.fixture
    def runner(self, shared: Path) -> SlurmRunner:
        return require_engine(SlurmRunner(SlurmSettings(shared_dir=shared)))

    def test_the_sif_is_built_once_into_the_shared_dir(
        self, runner: SlurmRunner, config: ContainerConfig, tmp_path: Path, shared: Path
    ) -> None:
        digest = runner.image_hash(config)
        sif = sif_path(digest, shared / "sif")
        assert sif.is_file() and sif.parent == shared / "sif"
        built_at = sif.stat().st_mtime_ns
        runner.run(self.request(config, tmp_path, "network"))
        assert sif.stat().st_mtime_ns == built_at
        assert list((shared / "jobs").iterdir()) == []  # job folders are removed after the run

    def test_the_task_is_a_slurm_job_and_an_interrupt_cancels_it(
        self, runner: SlurmRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        runner.image_hash(config)
        request = self.request(config, tmp_path, "sleep")
        errors: list[BaseException] = []

        def run() -> None:
            try:
                runner.run(request)
            except BaseException as e:
                errors.append(e)

        worker = threading.Thread(target=run)
        worker.start()
        marker = f":{os.getpid()}:"
        _wait_for(lambda: any(name == "medperf-sleep" for _, name, _ in _jobs(marker)))
        _wait_for(lambda: "sleeping" in request.log_path.read_text())  # the log streams while the job runs
        cancel.cancel()  # what `benchmark run --parallel` does on Ctrl-C
        worker.join(30)
        assert not worker.is_alive()
        assert isinstance(errors[0], RunnerError) and "interrupted" in errors[0].message
        _wait_for(lambda: not _jobs(marker), 30)

    def test_sigterm_cancels_the_job(self, config: ContainerConfig, tmp_path: Path, shared: Path) -> None:
        client = _start_client(config, tmp_path, shared)
        _wait_for(lambda: _running(client.pid))
        client.send_signal(signal.SIGTERM)
        assert client.wait(30) == 128 + signal.SIGTERM
        _wait_for(lambda: not _jobs(f":{client.pid}:"), 30)

    def test_a_killed_clients_job_is_gone_within_a_second(
        self, config: ContainerConfig, tmp_path: Path, shared: Path
    ) -> None:
        """SIGKILL leaves the client no `finally`: its watchdog cancels the job (and so the container), then exits."""
        client = _start_client(config, tmp_path, shared)
        log = tmp_path / "log"
        _wait_for(lambda: _running(client.pid) and log.is_file() and "sleeping" in log.read_text())
        job_id = _jobs(f":{client.pid}:")[0][0]
        job_processes = slurm_job_processes(job_id)  # slurmstepd, the script, Apptainer's starter, init, sh, sleep
        assert len(job_processes) >= 4, job_processes
        started = descendants(client.pid)
        try:
            gone_after = kill_and_time(client, lambda: _active(job_id) or bool(alive(job_processes)))
            assert gone_after <= GONE_WITHIN_S, f"the job ran on {gone_after:.2f} s after its client died"
            _wait_for(lambda: not alive(started), 10)  # the watchdog does not outlive the job
        finally:
            slurm.cancel(job_id)

    def test_a_run_that_ends_normally_is_watched_and_its_watchdog_kills_nothing_and_leaves(
        self, runner: SlurmRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        result, seen = watched_run(runner, self.request(config, tmp_path, "progress"))
        assert result.exit_code == 0 and len(seen) == 1, seen
        _wait_for(lambda: not alive(seen), 10)

    def test_a_job_of_a_killed_client_and_watchdog_is_cancelled_on_the_next_start(
        self, config: ContainerConfig, tmp_path: Path, shared: Path
    ) -> None:
        client = _start_client(config, tmp_path, shared)
        _wait_for(lambda: _running(client.pid) and bool(watchdogs(descendants(client.pid))))
        for pid, _ in watchdogs(descendants(client.pid)):  # the watchdog dies too (power loss, a kill of both)
            os.kill(pid, signal.SIGKILL)
        client.kill()
        client.wait(10)
        time.sleep(GONE_WITHIN_S)
        left = _jobs(f":{client.pid}:")
        assert len(left) == 1  # SIGKILL of both leaves the job running
        runner = SlurmRunner(SlurmSettings(shared_dir=shared))
        runner.check_available()
        assert runner.cancelled_orphans == [left[0][0]]
        _wait_for(lambda: not _jobs(f":{client.pid}:"), 30)


_CLIENT = """
import sys
from pathlib import Path
from medperf_core.containers.config import loads_container_config
from medperf_core.containers.runner import RunRequest
from medperf_core.testing.images import TEST_IMAGE
from medperf_core.testing.runner_contract import CONTRACT_CONFIG
from medperf_slurm.runner import SlurmRunner
from medperf_slurm.settings import SlurmSettings

out, shared = Path(sys.argv[1]), Path(sys.argv[2])
config = loads_container_config(CONTRACT_CONFIG.format(image=TEST_IMAGE))
SlurmRunner(SlurmSettings(shared_dir=shared)).run(
    RunRequest(config=config, task="sleep", inputs={}, outputs={"output_path": out / "o"}, log_path=out / "log")
)
"""


def _start_client(config: ContainerConfig, tmp_path: Path, shared: Path) -> subprocess.Popen[bytes]:
    SlurmRunner(SlurmSettings(shared_dir=shared)).image_hash(config)  # the SIF exists before the client starts
    return subprocess.Popen([sys.executable, "-c", _CLIENT, str(tmp_path), str(shared)])


def _active(job_id: str) -> bool:
    info = slurm.job_info(job_id)
    return info is not None and info.active


def _running(pid: int) -> bool:
    jobs = _jobs(f":{pid}:")
    info = slurm.job_info(jobs[0][0]) if jobs else None
    return info is not None and info.state == "RUNNING"
