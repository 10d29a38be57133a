"""The example runner implements the Runner protocol and runs Python callables in place of containers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from medperf_example_plugin.runner import ExampleRunner

from medperf_core.containers.config import loads_container_config
from medperf_core.containers.runner import Runner, RunRequest
from medperf_core.errors import ConfigError, ContainerFailedError, IntegrityError

CONFIG = loads_container_config(
    """
container_type: DockerImage
image: example/model:0.1
tasks:
  infer:
    run_args: {command: python infer.py}
    input_volumes:
      data_path: {mount_path: /in/data, type: directory}
    output_volumes:
      output_path: {mount_path: /out/predictions, type: directory}
"""
)


def request(tmp_path: Path, task: str = "infer", **options: object) -> RunRequest:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "case1.png").write_text("x")
    return RunRequest(
        config=CONFIG,
        task=task,
        inputs={"data_path": data},
        outputs={"output_path": tmp_path / "out"},
        log_path=tmp_path / "logs" / "infer.log",
        **options,  # type: ignore[arg-type]
    )


def test_it_is_a_runner() -> None:
    runner = ExampleRunner()
    assert isinstance(runner, Runner)
    runner.check_available()
    assert runner.image_hash(CONFIG).startswith("sha256:")


def test_the_default_task_lists_the_inputs(tmp_path: Path) -> None:
    result = ExampleRunner().run(request(tmp_path))
    assert result.exit_code == 0 and result.log_path.read_text().endswith("done\n")
    assert json.loads((tmp_path / "out" / "inputs.json").read_text()) == {"data_path": ["case1.png"]}


def test_a_given_callable_runs_over_the_paths(tmp_path: Path) -> None:
    def infer(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        outputs["output_path"].mkdir(parents=True)
        (outputs["output_path"] / "n.txt").write_text(str(len(list(inputs["data_path"].iterdir()))))

    ExampleRunner({"infer": infer}).run(request(tmp_path))
    assert (tmp_path / "out" / "n.txt").read_text() == "1"


def test_failures_digests_and_unknown_tasks_raise_medperf_errors(tmp_path: Path) -> None:
    def boom(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        raise ValueError("no data")

    with pytest.raises(ContainerFailedError, match="no data"):
        ExampleRunner({"infer": boom}).run(request(tmp_path))
    with pytest.raises(IntegrityError):
        ExampleRunner().run(request(tmp_path, expected_image_hash="sha256:0"))
    with pytest.raises(ConfigError, match="no task 'evaluate'"):
        ExampleRunner().run(request(tmp_path, task="evaluate"))
