"""The Singularity/Apptainer runner passes the runner contract and caches one SIF per image digest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from medperf_singularity.runner import SingularityRunner
from medperf_singularity.sif import sif_path

from medperf_core.containers.config import ContainerConfig, loads_container_config
from medperf_core.errors import IntegrityError, RunnerError
from medperf_core.testing.formats_contract import FormatsContract
from medperf_core.testing.killed_client import (
    GONE_WITHIN_S,
    alive,
    descendants,
    kill_and_time,
    start_client,
    wait_until,
    watchdogs,
    watched_run,
)
from medperf_core.testing.registry import REGISTRY, PushedImage, present_locally, push_unique_image, require_registry
from medperf_core.testing.runner_contract import CONTRACT_CONFIG, WRONG_DIGEST, RunnerContract, require_engine

pytestmark = pytest.mark.singularity


@pytest.fixture(autouse=True)
def sif_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One MEDPERF_HOME for the whole module, so the SIF cache is shared by its tests but never the user's."""
    home = tmp_path_factory.getbasetemp() / "singularity-medperf-home"
    monkeypatch.setenv("MEDPERF_HOME", str(home))
    return home


class TestSingularityRunner(RunnerContract):
    @pytest.fixture
    def runner(self) -> SingularityRunner:
        return require_engine(SingularityRunner())

    def test_the_sif_is_built_once_per_digest_and_reused(
        self, runner: SingularityRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        digest = runner.image_hash(config)
        sif = sif_path(digest)
        assert sif.is_file() and sif.name == f"{digest.split(':')[1]}.sif"
        built_at = sif.stat().st_mtime_ns
        runner.run(self.request(config, tmp_path, "network"))
        assert sif.stat().st_mtime_ns == built_at
        # the SIF and its note of the image's ENTRYPOINT, CMD and working directory, no temp files
        mine = sorted(p.name for p in sif.parent.iterdir() if p.name.startswith(sif.stem) or p.name.startswith("."))
        assert mine == sorted([sif.name, sif.with_suffix(".image.json").name])


    def test_a_killed_clients_container_is_gone_within_a_second(
        self, runner: SingularityRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        """SIGKILL leaves the client no `finally`: its watchdog kills the container's process group, then exits."""
        runner.image_hash(config)  # the SIF is built before the client starts
        request = self.request(config, tmp_path, "sleep")
        client = start_client(SingularityRunner, (), request)
        wait_until(lambda: request.log_path.is_file() and "sleeping" in request.log_path.read_text(), 60)
        started = descendants(client.pid)
        container = started - watchdogs(started)  # Apptainer's starter, its init, sh and sleep
        assert len(container) >= 3, started
        try:
            gone_after = kill_and_time(client, lambda: bool(alive(container)))
            assert gone_after <= GONE_WITHIN_S, f"the container ran on {gone_after:.2f} s after its client died"
            wait_until(lambda: not alive(started), 10, "the watchdog to exit")  # it does not outlive the container
        finally:
            for pid, _ in alive(started):
                os.kill(pid, signal.SIGKILL)

    def test_a_container_left_by_a_killed_client_and_watchdog_is_stopped_when_the_next_runner_starts(
        self, runner: SingularityRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        """When the watchdog dies with the client, the next runner's start finds the container by the owner in its
        processes' environment and kills its process group."""
        runner.image_hash(config)
        request = self.request(config, tmp_path, "sleep")
        client = start_client(SingularityRunner, (), request)
        wait_until(lambda: request.log_path.is_file() and "sleeping" in request.log_path.read_text(), 60)
        wait_until(lambda: bool(watchdogs(descendants(client.pid))), 10, "the watchdog to start")
        started = descendants(client.pid)
        container = started - watchdogs(started)
        try:
            for pid, _ in watchdogs(started):
                os.kill(pid, signal.SIGKILL)
            client.kill()
            client.wait()
            time.sleep(GONE_WITHIN_S)
            assert alive(container) == container, "the container outlived its client and watchdog, as expected"
            SingularityRunner().check_available()
            wait_until(lambda: not alive(container), GONE_WITHIN_S, "the container to be stopped")
        finally:
            for pid, _ in alive(started):
                os.kill(pid, signal.SIGKILL)

    def test_a_run_that_ends_normally_is_watched_and_its_watchdog_kills_nothing_and_leaves(
        self, runner: SingularityRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        result, seen = watched_run(runner, self.request(config, tmp_path, "progress"))
        assert result.exit_code == 0 and len(seen) == 1, seen
        wait_until(lambda: not alive(seen), 10, "the watchdog to exit")


class TestSingularityPulls:
    """An image Docker does not have is built into a SIF from its registry (`docker://`), then checked as today."""

    @pytest.fixture
    def runner(self) -> SingularityRunner:
        return require_engine(SingularityRunner())

    @pytest.fixture
    def pushed(self, runner: SingularityRunner) -> Iterator[PushedImage]:
        image = push_unique_image(require_registry())
        yield image
        image.remove()

    def test_the_sif_is_built_from_the_registry_without_a_local_docker_image(
        self, runner: SingularityRunner, pushed: PushedImage, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        config = loads_container_config(CONTRACT_CONFIG.format(image=pushed.reference))
        request = RunnerContract().request(config, tmp_path, "network", expected_image_hash=pushed.image_id[7:])
        result = runner.run(request)
        assert result.image_hash == pushed.image_id and sif_path(pushed.image_id).is_file()
        assert f"building the SIF of docker://{pushed.reference}" in capfd.readouterr().err
        assert not present_locally(pushed.image_id), "the runner went through Docker, not the registry"
        assert (tmp_path / "out" / "network" / "output_path" / "ifaces.txt").read_text().split() == ["lo"]

    def test_a_registry_image_with_another_digest_is_refused_before_any_build(
        self, runner: SingularityRunner, pushed: PushedImage, tmp_path: Path
    ) -> None:
        config = loads_container_config(CONTRACT_CONFIG.format(image=pushed.reference))
        with pytest.raises(IntegrityError, match=f"has digest {pushed.image_id}"):
            runner.run(RunnerContract().request(config, tmp_path, "network", expected_image_hash=WRONG_DIGEST))
        assert not sif_path(pushed.image_id).exists()

    def test_a_failed_pull_names_the_image_the_registry_and_the_fix(
        self, runner: SingularityRunner, tmp_path: Path
    ) -> None:
        image = f"{require_registry()}/medperf-test/never-pushed@sha256:{'1' * 64}"
        config = loads_container_config(CONTRACT_CONFIG.format(image=image))
        with pytest.raises(RunnerError) as info:
            runner.run(RunnerContract().request(config, tmp_path, "network"))
        message = info.value.one_line()
        assert f"image {image} is not present locally and pulling it from the registry {REGISTRY} failed" in message
        assert "install-engines.sh" in message


class TestSingularityFormats(FormatsContract):
    @pytest.fixture
    def runner(self) -> SingularityRunner:
        return require_engine(SingularityRunner())


def test_the_plugin_registers_singularity_without_importing_spython() -> None:
    code = (
        "import sys\n"
        "from medperf_core.registry import Registry\n"
        "from medperf_singularity import plugin\n"
        "r = Registry('runner'); plugin.medperf_register_runners(r)\n"
        "assert r.names() == ['singularity'], r.names()\n"
        "assert 'spython' not in sys.modules and 'docker' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
