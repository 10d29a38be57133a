"""`kill -9` of the real `medperf` command while its container runs, on each engine: one second after the client
died nothing it started runs any more (Docker: no container; Apptainer: none of its processes; Slurm: no job and
none of the job's processes), and its watchdog has gone too."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from _e2e import medperf_binary, require_platform

from medperf_core.containers.leftovers import ENV_RUN, LABEL_RUN
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image
from medperf_core.testing.killed_client import (
    GONE_WITHIN_S,
    Process,
    alive,
    descendants,
    kill_and_time,
    slurm_job_processes,
    wait_until,
    watchdogs,
)
from medperf_core.testing.runner_contract import CONTRACT_CONFIG

PLATFORMS = [
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("singularity", marks=pytest.mark.singularity),
    pytest.param("slurm", marks=pytest.mark.slurm),
]


def _docker_probe(run_label: str) -> Callable[[], bool]:
    import docker

    engine = docker.from_env()
    return lambda: bool(engine.containers.list(filters={"label": f"{LABEL_RUN}={run_label}"}))


def _slurm_probe(client_pid: int) -> Callable[[], bool]:
    """Whether the client's job is still queued or running, or any of its processes on this node still runs."""
    from medperf_slurm import slurm
    from medperf_slurm.orphans import current_user

    job_id = next(job for job, _, comment in slurm.user_jobs(current_user()) if f":{client_pid}:" in comment)
    processes = slurm_job_processes(job_id)
    assert len(processes) >= 4, processes  # slurmstepd, the job script, Apptainer's starter and init, sh, sleep

    def running() -> bool:
        info = slurm.job_info(job_id)
        return (info is not None and info.active) or bool(alive(processes))

    return running


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_killed_medperf_leaves_no_container_running(platform: str, tmp_path: Path, medperf_home: Path) -> None:
    require_platform(platform)
    ensure_test_image()
    config = tmp_path / "container.yaml"
    config.write_text(CONTRACT_CONFIG.format(image=TEST_IMAGE))
    run_label = f"killed-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "MEDPERF_HOME": str(medperf_home), ENV_RUN: run_label}
    subprocess.run([*medperf_binary(), "profile", "set", "--platform", platform], env=env, check=True,
                   capture_output=True)
    log = tmp_path / "sleep.log"
    client = subprocess.Popen(
        [*medperf_binary(), "container", "run_test", "-m", str(config), "-t", "sleep", "-o", str(log),
         "--mounts", f"output_path={tmp_path / 'out'}"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    started: set[Process] = set()
    try:
        wait_until(lambda: log.is_file() and "sleeping" in log.read_text(), 180)
        started = descendants(client.pid)
        if platform == "docker":
            running = _docker_probe(run_label)
        elif platform == "slurm":
            running = _slurm_probe(client.pid)
        else:
            container = started - watchdogs(started)  # Apptainer's starter and init, sh, sleep
            assert len(container) >= 3, started
            running = lambda: bool(alive(container))  # noqa: E731
        assert running()
        gone_after = kill_and_time(client, running)
        assert gone_after <= GONE_WITHIN_S, f"the container ran on {gone_after:.2f} s after medperf was killed"
        wait_until(lambda: not alive(started), 10, "the watchdog to exit")
    finally:  # after a failure: stop what is left, so it does not run on beside later tests
        client.kill()
        client.wait()
        for pid, _ in alive(started):
            os.kill(pid, signal.SIGKILL)
        if platform != "singularity":  # a runner's start removes the containers and cancels the jobs of dead clients
            require_platform(platform)
