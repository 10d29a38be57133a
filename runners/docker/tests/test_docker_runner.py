"""The Docker runner passes the runner contract, leaves no containers behind and registers as a plugin."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from medperf_docker.runner import DockerRunner

from medperf_core.containers.config import ContainerConfig, loads_container_config
from medperf_core.errors import ContainerFailedError, IntegrityError, RunnerError
from medperf_core.testing.formats_contract import MODEL, FormatsContract
from medperf_core.testing.registry import REGISTRY, PushedImage, present_locally, push_unique_image, require_registry
from medperf_core.testing.runner_contract import CONTRACT_CONFIG, WRONG_DIGEST, RunnerContract, require_engine

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
