"""The Docker runner passes the runner contract, leaves no containers behind and registers as a plugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from medperf_docker.runner import DockerRunner

from medperf_core.containers.config import ContainerConfig, loads_container_config
from medperf_core.containers.leftovers import ENV_RUN, LABEL_RUN
from medperf_core.errors import ContainerFailedError, IntegrityError, RunnerError
from medperf_core.testing.formats_contract import MODEL, FormatsContract
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

pytestmark = pytest.mark.docker


def _containers(run_label: str, *, all_states: bool = False) -> list[str]:
    """The containers of one test's client, found by the run label it sets (MEDPERF_RUN_LABEL). Asked through the
    SDK: a `docker ps` process takes a few tenths of a second to start on a busy machine, which would blur the
    measured time."""
    found = docker.from_env().containers.list(all=all_states, filters={"label": f"{LABEL_RUN}={run_label}"})
    return [str(c.id) for c in found]


def _running(run_label: str) -> list[str]:
    return _containers(run_label)


def _containers_for(task: str) -> list[str]:
    done = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=org.medperf.task={task}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


class TestDockerRunner(RunnerContract):
    @pytest.fixture
    def runner(self) -> DockerRunner:
        return require_engine(DockerRunner())

    def test_containers_are_removed_after_timeout_and_failure(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        for task, options in (("sleep", {"timeout": 1}), ("fail", {})):
            with pytest.raises(ContainerFailedError):
                runner.run(self.request(config, tmp_path / task, task, **options))
            assert _containers_for(task) == []

    def test_a_killed_clients_container_is_gone_within_a_second(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        """SIGKILL leaves the client no `finally`: its watchdog removes the container, then exits."""
        label = f"killed-{uuid.uuid4().hex[:12]}"
        client = start_client(DockerRunner, (), self.request(config, tmp_path, "sleep"), {ENV_RUN: label})
        wait_until(lambda: bool(_running(label)), 60)
        started = descendants(client.pid)
        gone_after = kill_and_time(client, lambda: bool(_running(label)))
        assert gone_after <= GONE_WITHIN_S, f"the container ran on {gone_after:.2f} s after its client died"
        wait_until(lambda: not alive(started), 10, "the watchdog to exit")  # it does not outlive the container
        assert _containers(label, all_states=True) == []  # removed, not only stopped (its last act before exiting)

    def test_a_run_that_ends_normally_is_watched_and_its_watchdog_kills_nothing_and_leaves(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        result, seen = watched_run(runner, self.request(config, tmp_path, "progress"))
        assert result.exit_code == 0 and len(seen) == 1, seen
        wait_until(lambda: not alive(seen), 10, "the watchdog to exit")

    def test_a_container_left_by_a_killed_client_and_watchdog_is_removed_when_the_next_runner_starts(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        """When the watchdog dies with the client (power loss, a kill of both), the next runner's start removes
        what they left, by the client named in the container's label."""
        label = f"killed-{uuid.uuid4().hex[:12]}"
        client = start_client(DockerRunner, (), self.request(config, tmp_path, "sleep"), {ENV_RUN: label})
        wait_until(lambda: bool(_running(label)) and bool(watchdogs(descendants(client.pid))), 60)
        for pid, _ in watchdogs(descendants(client.pid)):
            os.kill(pid, signal.SIGKILL)
        client.kill()
        client.wait()
        time.sleep(GONE_WITHIN_S)
        assert _running(label), "the container outlived its client and watchdog, as expected before cleanup"
        DockerRunner().check_available()
        assert _containers(label, all_states=True) == []

    def test_a_missing_image_that_no_registry_has_says_to_build_it(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        missing = ContainerConfig(image="medperf-testing/not-built:0", tasks=config.tasks)
        pulled_from_hub = r"not present locally and pulling it from the registry docker\.io"
        with pytest.raises(RunnerError, match=pulled_from_hub) as info:
            runner.run(self.request(missing, tmp_path, "network"))
        assert info.value.hint and "build" in info.value.hint


class TestDockerPulls:
    """An image missing locally is pulled from the local registry by digest, then checked as today."""

    @pytest.fixture
    def runner(self) -> DockerRunner:
        return require_engine(DockerRunner())

    @pytest.fixture
    def pushed(self, runner: DockerRunner) -> Iterator[PushedImage]:
        image = push_unique_image(require_registry())
        yield image
        image.remove()

    def _config(self, image: str) -> ContainerConfig:
        return loads_container_config(CONTRACT_CONFIG.format(image=image))

    def test_an_image_missing_locally_is_pulled_by_digest_and_its_id_checked(
        self, runner: DockerRunner, pushed: PushedImage, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        assert not present_locally(pushed.image_id)
        request = RunnerContract().request(
            self._config(pushed.reference), tmp_path, "network", expected_image_hash=pushed.image_id[7:]
        )
        result = runner.run(request)
        assert result.image_hash == pushed.image_id and present_locally(pushed.reference)
        err = capfd.readouterr().err
        assert f"pulling {pushed.reference} from {REGISTRY}" in err and "pull complete" in err, err
        assert (tmp_path / "out" / "network" / "output_path" / "ifaces.txt").read_text().split() == ["lo"]

    def test_a_pulled_image_with_another_digest_is_refused(
        self, runner: DockerRunner, pushed: PushedImage, tmp_path: Path
    ) -> None:
        request = RunnerContract().request(
            self._config(pushed.reference), tmp_path, "network", expected_image_hash=WRONG_DIGEST
        )
        with pytest.raises(IntegrityError, match=f"has digest {pushed.image_id}"):
            runner.run(request)
        assert not (tmp_path / "logs" / "network.log").exists()

    def test_a_failed_pull_names_the_image_the_registry_and_the_fix(
        self, runner: DockerRunner, tmp_path: Path
    ) -> None:
        image = f"{require_registry()}/medperf-test/never-pushed@sha256:{'1' * 64}"
        with pytest.raises(RunnerError) as info:
            runner.run(RunnerContract().request(self._config(image), tmp_path, "network"))
        message = info.value.one_line()
        assert f"image {image} is not present locally and pulling it from the registry {REGISTRY} failed" in message
        assert "install-engines.sh" in message


class TestDockerFormats(FormatsContract):
    @pytest.fixture
    def runner(self) -> DockerRunner:
        return require_engine(DockerRunner())

    def test_shm_size_from_run_args_sizes_dev_shm(
        self, runner: DockerRunner, image: str, raw: dict[str, Path], tmp_path: Path
    ) -> None:
        predictions = tmp_path / "predictions"
        self.run(runner, self.config(MODEL, image), "infer", tmp_path,
                 inputs={"data_path": raw["data_path"], "parameters_file": raw["parameters_file"]},
                 outputs={"output_path": predictions})
        assert (predictions / "shm_kb.txt").read_text().strip() == str(96 * 1024)


def test_the_plugin_registers_docker_without_importing_the_sdk() -> None:
    code = (
        "import sys\n"
        "from medperf_core.registry import Registry\n"
        "from medperf_docker import plugin\n"
        "r = Registry('runner'); plugin.medperf_register_runners(r)\n"
        "assert r.names() == ['docker'], r.names()\n"
        "o = Registry('image owner'); plugin.medperf_register_image_owners(o)\n"
        "assert o.names() == ['docker'], o.names()\n"
        "o.get('docker')()\n"
        "assert 'docker' not in sys.modules, 'the docker SDK was imported at registration'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_entry_point_is_found_by_the_plugin_manager() -> None:
    from medperf_core.plugins import PluginHost, build_plugin_manager

    host = PluginHost(build_plugin_manager())
    assert "docker" in host.runners and "docker" in host.image_owners  # storage cleans up its images through it
