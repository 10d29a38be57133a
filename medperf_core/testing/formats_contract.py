"""MedPerf's container shapes on a real engine: subclass `FormatsContract` and override the `runner` fixture.

One small image (`medperf_core.testing.images.ENTRYPOINT_IMAGE`: an ENTRYPOINT script and CMD `default`) plays
every container: a data preparator with three tasks whose commands go to the image's ENTRYPOINT, a model and a
metrics container that rely on the image's own ENTRYPOINT and CMD (no `command`, or no `run_args` at all), an
`mlcube.yaml` model with its `workspace/`, a task that replaces the ENTRYPOINT, and a data preparator with MedPerf's
`metadata_path` (written by prepare, read by sanity_check and statistics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medperf_core.containers.config import ContainerConfig, loads_container_config
from medperf_core.containers.runner import Runner, RunRequest
from medperf_core.errors import ContainerFailedError
from medperf_core.services.containers import local_container
from medperf_core.testing.images import ENTRYPOINT_IMAGE, ensure_entrypoint_image

PREP = """\
container_type: DockerImage
image: {image}
tasks:
  prepare:
    run_args:
      command: >-
        prepare --data_path=/mlcommons/volumes/raw_data --labels_path=/mlcommons/volumes/raw_labels
        --parameters_file=/mlcommons/volumes/parameters/parameters.yaml --output_path=/mlcommons/volumes/data
        --output_labels_path=/mlcommons/volumes/labels "--note=two  words"
      environment: {{MEDPERF_TEST_ENV: from-config}}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/raw_data, type: directory}}
      labels_path: {{mount_path: /mlcommons/volumes/raw_labels, type: directory}}
      parameters_file: {{mount_path: /mlcommons/volumes/parameters/parameters.yaml, type: file}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
      output_labels_path: {{mount_path: /mlcommons/volumes/labels, type: directory}}
  sanity_check:
    run_args: {{command: [sanity_check]}}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
      labels_path: {{mount_path: /mlcommons/volumes/labels, type: directory}}
  statistics:
    run_args: {{command: [statistics, --output_path=/mlcommons/volumes/statistics/statistics.yaml]}}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
      labels_path: {{mount_path: /mlcommons/volumes/labels, type: directory}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/statistics/statistics.yaml, type: file}}
"""

# run_args without `command`: the image's ENTRYPOINT runs with its CMD (`default`, the role from $ROLE)
MODEL = """\
container_type: DockerImage
image: {image}
tasks:
  infer:
    run_args:
      environment: {{ROLE: infer}}
      shm_size: 96m
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
      parameters_file: {{mount_path: /mlcommons/volumes/parameters/parameters.yaml, type: file}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
"""

# no run_args at all: exactly what the image runs by itself
METRICS = """\
container_type: DockerImage
image: {image}
tasks:
  evaluate:
    input_volumes:
      predictions: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
      labels: {{mount_path: /mlcommons/volumes/labels, type: directory}}
      parameters_file: {{mount_path: /mlcommons/volumes/parameters/parameters.yaml, type: file}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/results/results.yaml, type: file}}
"""

MLCUBE = """\
name: mlcube-style model
docker:
  image: {image}
tasks:
  infer:
    parameters:
      inputs: {{data_path: data/, parameters_file: parameters.yaml, weights: additional_files/weights/w.txt}}
      outputs: {{output_path: {{type: directory, default: predictions}}}}
"""

OVERRIDE = """\
container_type: DockerImage
image: {image}
tasks:
  replaced:
    run_args:
      entrypoint: /bin/sh
      command: [-c, 'echo "replaced $0 $#" > /out/data/who.txt']
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
"""


# MedPerf's metadata folder: prepare writes it (an output), sanity_check and statistics read it (inputs, read-only)
METADATA_PREP = """\
container_type: DockerImage
image: {image}
tasks:
  prepare:
    run_args:
      entrypoint: /bin/sh
      command: [-c, 'cp /in/data/* /out/data/ && cp /in/labels/* /out/labels/ && ls /in/data | wc -l > /out/meta/n.txt']
    input_volumes:
      data_path: {{mount_path: /in/data, type: directory}}
      labels_path: {{mount_path: /in/labels, type: directory}}
    output_volumes:
      output_path: {{mount_path: /out/data, type: directory}}
      output_labels_path: {{mount_path: /out/labels, type: directory}}
      metadata_path: {{mount_path: /out/meta, type: directory}}
  sanity_check:
    run_args:
      entrypoint: /bin/sh
      command: [-c, 'test -s /meta/n.txt && ! touch /meta/new 2>/dev/null && echo metadata read-only']
    input_volumes:
      data_path: {{mount_path: /data, type: directory}}
      labels_path: {{mount_path: /labels, type: directory}}
      metadata_path: {{mount_path: /meta, type: directory}}
  statistics:
    run_args:
      entrypoint: /bin/sh
      command: [-c, 'echo "files: $(cat /meta/n.txt)" > /stats/statistics.yaml']
    input_volumes:
      data_path: {{mount_path: /data, type: directory}}
      labels_path: {{mount_path: /labels, type: directory}}
      metadata_path: {{mount_path: /meta, type: directory}}
    output_volumes:
      output_path: {{mount_path: /stats/statistics.yaml, type: file}}
"""


class FormatsContract:
    """Containers of every MedPerf shape run on the engine as MedPerf runs them."""

    @pytest.fixture
    def runner(self) -> Runner:
        raise NotImplementedError("override the `runner` fixture in your subclass")

    @pytest.fixture
    def image(self, runner: Runner) -> str:
        ensure_entrypoint_image(ENTRYPOINT_IMAGE)
        return ENTRYPOINT_IMAGE

    @pytest.fixture
    def raw(self, tmp_path: Path) -> dict[str, Path]:
        data, labels, params = tmp_path / "raw" / "data", tmp_path / "raw" / "labels", tmp_path / "parameters.yaml"
        data.mkdir(parents=True)
        labels.mkdir()
        (data / "hello.txt").write_text("hello from the host\n")
        (labels / "labels.txt").write_text("1\n")
        params.write_text("threshold: 0.5\n")
        return {"data_path": data, "labels_path": labels, "parameters_file": params}

    def config(self, template: str, image: str) -> ContainerConfig:
        return loads_container_config(template.format(image=image))

    def run(self, runner: Runner, config: ContainerConfig, task: str, tmp_path: Path, **io: Any) -> RunRequest:
        request = RunRequest(config=config, task=task, inputs=io.pop("inputs", {}), outputs=io.pop("outputs", {}),
                             log_path=tmp_path / "logs" / f"{task}.log", **io)
        runner.run(request)
        return request

    def test_a_prep_model_and_metrics_relying_on_the_image_run_as_medperf_runs_them(
        self, runner: Runner, image: str, raw: dict[str, Path], tmp_path: Path
    ) -> None:
        prep = self.config(PREP, image)
        data, labels, stats = tmp_path / "ready" / "data", tmp_path / "ready" / "labels", tmp_path / "stats.yaml"
        self.run(runner, prep, "prepare", tmp_path, inputs=raw,
                 outputs={"output_path": data, "output_labels_path": labels})
        assert (data / "hello.txt").read_text() == "hello from the host\n"
        assert (labels / "labels.txt").read_text() == "1\n"
        assert (data / "params.txt").read_text() == "threshold: 0.5\n"
        assert (data / "note.txt").read_text() == "two  words\n"  # one argument, spaces kept
        assert (data / "env.txt").read_text() == "from-config\n"  # run_args.environment
        ready = {"data_path": data, "labels_path": labels}
        self.run(runner, prep, "sanity_check", tmp_path, inputs=ready)
        self.run(runner, prep, "statistics", tmp_path, inputs=ready, outputs={"output_path": stats})
        assert stats.read_text() == "files: 4\n"

        predictions = tmp_path / "predictions"
        model = self.config(MODEL, image)
        assert model.task("infer").command is None
        self.run(runner, model, "infer", tmp_path,
                 inputs={"data_path": data, "parameters_file": raw["parameters_file"]},
                 outputs={"output_path": predictions})
        assert (predictions / "pred.txt").read_text() == "hello from the host\nthreshold: 0.5\n"

        metrics = self.config(METRICS, image)
        results = tmp_path / "results.yaml"
        request = self.run(runner, metrics, "evaluate", tmp_path,
                           inputs={"predictions": predictions, "labels": labels,
                                   "parameters_file": raw["parameters_file"]},
                           outputs={"output_path": results})
        assert results.read_text() == "predicted: hello from the host\nlabels: 1\n"
        assert "entrypoint: role=evaluate" in request.log_path.read_text()

    def test_the_callers_environment_wins_over_the_configs(
        self, runner: Runner, image: str, raw: dict[str, Path], tmp_path: Path
    ) -> None:
        data = tmp_path / "data"
        self.run(runner, self.config(PREP, image), "prepare", tmp_path, inputs=raw,
                 outputs={"output_path": data, "output_labels_path": tmp_path / "labels"},
                 env={"MEDPERF_TEST_ENV": "from-caller"})
        assert (data / "env.txt").read_text() == "from-caller\n"

    def test_a_prep_with_a_metadata_folder_writes_it_in_prepare_and_reads_it_read_only_after(
        self, runner: Runner, image: str, raw: dict[str, Path], tmp_path: Path
    ) -> None:
        prep = self.config(METADATA_PREP, image)
        data, labels, meta = tmp_path / "ready" / "data", tmp_path / "ready" / "labels", tmp_path / "ready" / "meta"
        raw_io = {"data_path": raw["data_path"], "labels_path": raw["labels_path"]}
        self.run(runner, prep, "prepare", tmp_path, inputs=raw_io,
                 outputs={"output_path": data, "output_labels_path": labels, "metadata_path": meta})
        assert (meta / "n.txt").read_text().strip() == "1"
        ready = {"data_path": data, "labels_path": labels, "metadata_path": meta}
        request = self.run(runner, prep, "sanity_check", tmp_path, inputs=ready)
        assert "metadata read-only" in request.log_path.read_text()
        assert sorted(p.name for p in meta.iterdir()) == ["n.txt"]
        stats = tmp_path / "stats.yaml"
        self.run(runner, prep, "statistics", tmp_path, inputs=ready, outputs={"output_path": stats})
        assert stats.read_text() == "files: 1\n"

    def test_a_failing_entrypoint_raises_with_its_exit_code(
        self, runner: Runner, image: str, tmp_path: Path
    ) -> None:
        empty = {"data_path": tmp_path / "d", "labels_path": tmp_path / "l"}
        for folder in empty.values():
            folder.mkdir()
        with pytest.raises(ContainerFailedError, match="exited with code 3"):
            self.run(runner, self.config(PREP, image), "sanity_check", tmp_path, inputs=empty)
        assert "sanity check failed" in (tmp_path / "logs" / "sanity_check.log").read_text()

    def test_an_mlcube_yaml_with_its_workspace_runs_the_same_way(
        self, runner: Runner, image: str, raw: dict[str, Path], tmp_path: Path
    ) -> None:
        folder = tmp_path / "mlcube"
        weights = folder / "workspace" / "additional_files" / "weights"
        weights.mkdir(parents=True)
        (weights / "w.txt").write_text("weights: 42\n")
        (folder / "workspace" / "parameters.yaml").write_text("threshold: 0.7\n")
        (folder / "mlcube.yaml").write_text(MLCUBE.format(image=image))
        container = local_container(folder)
        predictions = tmp_path / "predictions"
        self.run(runner, container.config, "infer", tmp_path,
                 inputs={**container.mounts_for("infer"), "data_path": raw["data_path"]},
                 outputs={"output_path": predictions})
        assert (predictions / "pred.txt").read_text() == "hello from the host\nthreshold: 0.7\nweights: 42\n"

    def test_an_entrypoint_in_run_args_replaces_the_images(
        self, runner: Runner, image: str, tmp_path: Path
    ) -> None:
        out = tmp_path / "out"
        self.run(runner, self.config(OVERRIDE, image), "replaced", tmp_path, outputs={"output_path": out})
        # `sh -c SCRIPT` alone: $0 is the shell and no arguments follow; the image's CMD (`default`) was dropped
        word, zero, count = (out / "who.txt").read_text().split()
        assert (word, zero.endswith("sh"), count) == ("replaced", True, "0")
