"""The Docker runner passes the runner contract, leaves no containers behind and registers as a plugin."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from medperf_docker.runner import DockerRunner

from medperf_core.containers.config import ContainerConfig
from medperf_core.errors import ContainerFailedError, RunnerError
from medperf_core.testing.formats_contract import MODEL, FormatsContract
from medperf_core.testing.runner_contract import RunnerContract, require_engine

pytestmark = pytest.mark.docker


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

    def test_a_killed_clients_container_is_removed_when_the_next_runner_starts(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        """SIGKILL leaves no `finally`: the container keeps running, labelled with its dead client; the next
        client's runner removes it when it starts."""
        request = self.request(config, tmp_path, "sleep")
        script = (
            "import pickle, sys\n"
            "from medperf_docker.runner import DockerRunner\n"
            "DockerRunner().run(pickle.loads(sys.stdin.buffer.read()))\n"
        )
        client = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
        assert client.stdin is not None
        client.stdin.write(pickle.dumps(request))
        client.stdin.close()
        deadline = time.monotonic() + 60
        while not _containers_for("sleep") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _containers_for("sleep"), "the client never started its container"
        client.send_signal(signal.SIGKILL)
        client.wait()
        assert _containers_for("sleep"), "the container outlived its client, as expected before cleanup"
        DockerRunner().check_available()
        assert _containers_for("sleep") == []

    def test_a_missing_image_says_to_build_it_and_never_pulls(
        self, runner: DockerRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        missing = ContainerConfig(image="medperf-testing/not-built:0", tasks=config.tasks)
        with pytest.raises(RunnerError, match="not present") as info:
            runner.run(self.request(missing, tmp_path, "network"))
        assert info.value.hint and "build" in info.value.hint


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
        "assert 'docker' not in sys.modules, 'the docker SDK was imported at registration'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_entry_point_is_found_by_the_plugin_manager() -> None:
    from medperf_core.plugins import PluginHost, build_plugin_manager

    assert "docker" in PluginHost(build_plugin_manager()).runners
