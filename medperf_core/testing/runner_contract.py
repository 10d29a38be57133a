"""The contract every container runner passes: subclass `RunnerContract` and override the `runner` fixture.

    from medperf_core.testing.runner_contract import RunnerContract, require_engine

    class TestMyRunner(RunnerContract):
        @pytest.fixture
        def runner(self):
            return require_engine(MyRunner())

The contract runs a 2 MB busybox image (`medperf_core.testing.images`) and checks: mounts work, inputs are
read-only, there is no network, a timeout kills, failures raise ContainerFailedError naming the log, missing
outputs raise, logs are captured, a digest mismatch raises IntegrityError, outputs belong to the calling user.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from medperf_core.containers.config import ContainerConfig, loads_container_config
from medperf_core.containers.execution import live_output
from medperf_core.containers.runner import INSTALL_HINT, Runner, RunRequest
from medperf_core.errors import ConfigError, ContainerFailedError, EngineUnavailableError, IntegrityError
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image

CONTRACT_CONFIG = """\
container_type: DockerImage
image: {image}
tasks:
  copy:
    run_args:
      command:
        - sh
        - -c
        - >-
          cat /in/data/hello.txt /in/params.yaml > /out/data/copy.txt &&
          echo "$MEDPERF_CONTRACT" > /out/data/env.txt && id -u > /out/data/uid.txt &&
          echo to-stdout && echo to-stderr >&2
    input_volumes:
      data_path: {{mount_path: /in/data, type: directory}}
      parameters_file: {{mount_path: /in/params.yaml, type: file}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
  report:
    run_args: {{command: "sh -c 'echo done: 1 > /out/report/report.yaml'"}}
    output_volumes:
      report_file: {{mount_path: /out/report/report.yaml, type: file}}
  write_input:
    run_args:
      command: >-
        sh -c 'if echo x > /in/data/intruder.txt; then echo writable; else echo readonly; fi
        > /out/data/result.txt'
    input_volumes:
      data_path: {{mount_path: /in/data, type: directory}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
  network:
    run_args: {{command: "sh -c 'ls /sys/class/net > /out/data/ifaces.txt'"}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
  sleep:
    run_args: {{command: "sh -c 'echo sleeping; sleep 60; echo woke > /out/data/woke.txt'"}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
  fail:
    run_args: {{command: "sh -c 'echo boom-on-stderr >&2; exit 7'"}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
  lazy:
    run_args: {{command: "sh -c 'echo wrote nothing'"}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
  lazy_file:
    run_args: {{command: "sh -c 'echo wrote nothing'"}}
    output_volumes:
      report_file: {{mount_path: /out/report/report.yaml, type: file}}
  progress:
    run_args:
      command: >-
        sh -c 'echo "done: 1" > /out/report/report.yaml; sleep 3; echo "done: 2" > /out/report/report.yaml'
    output_volumes:
      report_file: {{mount_path: /out/report/report.yaml, type: file}}
"""

WRONG_DIGEST = "sha256:" + "0" * 64


def require_engine(runner: Any) -> Any:
    """Return the runner when its engine works; otherwise skip (or fail when the CI env var is set)."""
    try:
        runner.check_available()
    except EngineUnavailableError as e:
        message = f"{runner.name} engine unavailable: {e.one_line()}; {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return runner


class RunnerContract:
    """Behaviour shared by every runner (Docker, Singularity/Apptainer, and third-party ones)."""

    @pytest.fixture
    def runner(self) -> Runner:
        raise NotImplementedError("override the `runner` fixture in your subclass")

    @pytest.fixture
    def config(self, runner: Runner) -> ContainerConfig:
        ensure_test_image(TEST_IMAGE)
        return loads_container_config(CONTRACT_CONFIG.format(image=TEST_IMAGE))

    @pytest.fixture
    def data_dir(self, tmp_path: Path) -> Path:
        data = tmp_path / "data"
        data.mkdir()
        (data / "hello.txt").write_text("hello from the host\n")
        return data

    @pytest.fixture
    def params(self, tmp_path: Path) -> Path:
        path = tmp_path / "params.yaml"
        path.write_text("threshold: 0.5\n")
        return path

    def request(self, config: ContainerConfig, tmp_path: Path, task: str, **options: Any) -> RunRequest:
        inputs = options.pop("inputs", {})
        outputs = options.pop("outputs", None)
        if outputs is None:
            outputs = {
                v.name: tmp_path / "out" / task / (PurePosixPath(v.mount_path).name if v.is_file else v.name)
                for v in config.task(task).output_volumes
            }
        return RunRequest(
            config=config,
            task=task,
            inputs=inputs,
            outputs=outputs,
            log_path=tmp_path / "logs" / f"{task}.log",
            **options,
        )

    # --- mounts, logs, environment, ownership ---------------------------------------------------------------

    def test_engine_is_available_and_reports_a_digest(self, runner: Runner, config: ContainerConfig) -> None:
        runner.check_available()
        digest = runner.image_hash(config)
        assert digest.startswith("sha256:") and len(digest) == len(WRONG_DIGEST)

    def test_mounts_inputs_and_writes_outputs(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path, data_dir: Path, params: Path
    ) -> None:
        request = self.request(
            config,
            tmp_path,
            "copy",
            inputs={"data_path": data_dir, "parameters_file": params},
            env={"MEDPERF_CONTRACT": "env-passed"},
        )
        result = runner.run(request)
        out = request.outputs["output_path"]
        assert result.exit_code == 0
        assert result.duration_s > 0
        assert result.image_hash == runner.image_hash(config)
        assert (out / "copy.txt").read_text() == "hello from the host\nthreshold: 0.5\n"
        assert (out / "env.txt").read_text().strip() == "env-passed"

    def test_logs_are_captured_in_the_log_file(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path, data_dir: Path, params: Path
    ) -> None:
        request = self.request(
            config, tmp_path, "copy", inputs={"data_path": data_dir, "parameters_file": params}
        )
        result = runner.run(request)
        log = result.log_path.read_text()
        assert result.log_path == request.log_path
        assert "to-stdout" in log and "to-stderr" in log

    def test_show_logs_echoes_the_output(
        self,
        runner: Runner,
        config: ContainerConfig,
        tmp_path: Path,
        data_dir: Path,
        params: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        inputs = {"data_path": data_dir, "parameters_file": params}
        runner.run(self.request(config, tmp_path, "copy", inputs=inputs, show_logs=True))
        assert "to-stdout" in capsys.readouterr().out

    def test_outputs_belong_to_the_calling_user(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path, data_dir: Path, params: Path
    ) -> None:
        request = self.request(
            config, tmp_path, "copy", inputs={"data_path": data_dir, "parameters_file": params}
        )
        runner.run(request)
        out = request.outputs["output_path"]
        assert (out / "uid.txt").read_text().strip() == str(os.getuid())
        for path in (out, *out.iterdir()):
            assert path.stat().st_uid == os.getuid(), path

    def test_a_file_output_lands_at_its_host_path(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        request = self.request(config, tmp_path, "report")
        runner.run(request)
        report = request.outputs["report_file"]
        assert report.read_text().strip() == "done: 1"
        assert report.stat().st_uid == os.getuid()
        assert sorted(p.name for p in report.parent.iterdir()) == ["report.yaml"]  # no staging folder left

    def test_missing_output_folders_are_created(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        out = tmp_path / "deep" / "er" / "out"
        runner.run(self.request(config, tmp_path, "network", outputs={"output_path": out}))
        assert (out / "ifaces.txt").is_file()

    # --- isolation ------------------------------------------------------------------------------------------

    def test_inputs_are_read_only(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path, data_dir: Path
    ) -> None:
        request = self.request(config, tmp_path, "write_input", inputs={"data_path": data_dir})
        runner.run(request)
        assert (request.outputs["output_path"] / "result.txt").read_text().strip() == "readonly"
        assert not (data_dir / "intruder.txt").exists()

    def test_there_is_no_network(self, runner: Runner, config: ContainerConfig, tmp_path: Path) -> None:
        request = self.request(config, tmp_path, "network")
        runner.run(request)
        assert (request.outputs["output_path"] / "ifaces.txt").read_text().split() == ["lo"]

    # --- failures -------------------------------------------------------------------------------------------

    def test_a_timeout_kills_the_container_and_raises(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        runner.image_hash(config)  # engines that convert images do it before the clock starts
        request = self.request(config, tmp_path, "sleep", timeout=2)
        started = time.monotonic()
        with pytest.raises(ContainerFailedError, match="timed out") as info:
            runner.run(request)
        assert time.monotonic() - started < 30
        assert "'sleep'" in info.value.message and str(request.log_path) in info.value.message
        assert not (request.outputs["output_path"] / "woke.txt").exists()

    def test_a_non_zero_exit_raises_naming_task_code_and_log(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        request = self.request(config, tmp_path, "fail")
        with pytest.raises(ContainerFailedError) as info:
            runner.run(request)
        message = info.value.message
        assert "'fail'" in message and "7" in message and str(request.log_path) in message
        assert "boom-on-stderr" in request.log_path.read_text()

    def test_a_missing_output_folder_content_raises(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        with pytest.raises(ContainerFailedError, match="output_path"):
            runner.run(self.request(config, tmp_path, "lazy"))

    def test_a_missing_output_file_raises(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        request = self.request(config, tmp_path, "lazy_file")
        with pytest.raises(ContainerFailedError, match="report_file"):
            runner.run(request)
        assert list(request.outputs["report_file"].parent.iterdir()) == []

    def test_an_optional_file_output_may_stay_unwritten(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        request = self.request(config, tmp_path, "lazy_file", optional_outputs={"report_file"})
        assert runner.run(request).exit_code == 0
        assert list(request.outputs["report_file"].parent.iterdir()) == []  # nothing there, no staging folder

    def test_a_file_output_is_readable_while_the_task_runs(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        """MedPerf's report file: the client reads it while the container still writes it."""
        request = self.request(config, tmp_path, "progress")
        final = request.outputs["report_file"]
        seen: list[str] = []
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                live = live_output(final, "/out/report/report.yaml")
                text = live.read_text().strip() if live is not None else ""
                if text and (not seen or seen[-1] != text):
                    seen.append(text)
                time.sleep(0.1)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            runner.run(request)
        finally:
            done.set()
            watcher.join(5)
        assert seen[0] == "done: 1", seen  # read from the staging folder while the container ran
        assert final.read_text().strip() == "done: 2"
        assert live_output(final, "/out/report/report.yaml") == final.resolve()

    # --- integrity ------------------------------------------------------------------------------------------

    def test_a_digest_mismatch_raises_integrity_error(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        request = self.request(config, tmp_path, "network", expected_image_hash=WRONG_DIGEST)
        with pytest.raises(IntegrityError) as info:
            runner.run(request)
        assert info.value.hint and "rebuild" in info.value.hint
        assert not request.log_path.exists()

    def test_the_registered_digest_is_accepted(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        digest = runner.image_hash(config)
        result = runner.run(self.request(config, tmp_path, "network", expected_image_hash=digest))
        assert result.image_hash == digest

    # --- requests that cannot run ---------------------------------------------------------------------------

    def test_an_unknown_task_is_a_config_error(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        with pytest.raises(ConfigError, match="no task 'train'"):
            runner.run(
                RunRequest(config=config, task="train", inputs={}, outputs={}, log_path=tmp_path / "x.log")
            )

    def test_a_missing_input_volume_is_a_config_error(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path, data_dir: Path
    ) -> None:
        with pytest.raises(ConfigError, match="parameters_file"):
            runner.run(self.request(config, tmp_path, "copy", inputs={"data_path": data_dir}))

    def test_a_non_empty_output_folder_is_refused(
        self, runner: Runner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        out = tmp_path / "used"
        out.mkdir()
        (out / "old.txt").write_text("old")
        with pytest.raises(ConfigError, match="not an empty folder"):
            runner.run(self.request(config, tmp_path, "network", outputs={"output_path": out}))
