"""The tutorial benchmark on real containers: prepare → sanity_check → statistics → infer → evaluate."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from medperf_docker.runner import DockerRunner

from medperf_core.containers.config import load_container_config
from medperf_core.containers.runner import RunRequest, RunResult
from medperf_core.errors import ContainerFailedError
from medperf_core.testing.runner_contract import require_engine
from medperf_core.tutorial.data import generate_raw_data
from medperf_core.tutorial.images import TutorialContainer, build_tutorial_images, tutorial_containers

pytestmark = pytest.mark.docker


class Bench:
    """Runs tutorial tasks with the Docker runner, keeping every input and output under one work folder."""

    def __init__(self, runner: DockerRunner, work: Path, image_ids: Mapping[str, str]) -> None:
        self.runner, self.work, self.image_ids = runner, work, image_ids
        self.containers = {c.name: c for c in tutorial_containers()}

    def run(
        self, name: str, task: str, inputs: dict[str, Path], outputs: dict[str, Path], tag: str = ""
    ) -> RunResult:
        container: TutorialContainer = self.containers[name]
        inputs = {**inputs, "parameters_file": container.parameters_path}
        if container.additional_files_path is not None:
            inputs["additional_files"] = container.additional_files_path
        request = RunRequest(
            config=load_container_config(container.config_path),
            task=task,
            inputs=inputs,
            outputs=outputs,
            log_path=self.work / "logs" / f"{name}-{task}{tag}.log",
            expected_image_hash=self.image_ids[name],
            timeout=120,
        )
        return self.runner.run(request)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    runner = require_engine(DockerRunner())
    image_ids = build_tutorial_images()
    return Bench(runner, tmp_path_factory.mktemp("tutorial"), image_ids)


@pytest.fixture(scope="module")
def pipeline(bench: Bench) -> dict[str, Any]:
    work = bench.work
    raw = generate_raw_data(work / "raw", n_images=40, seed=0)
    data, labels = work / "prepared" / "data", work / "prepared" / "labels"
    bench.run(
        "prep",
        "prepare",
        {"data_path": raw / "images", "labels_path": raw / "labels"},
        {"output_path": data, "output_labels_path": labels},
    )
    bench.run("prep", "sanity_check", {"data_path": data, "labels_path": labels}, {})
    statistics = work / "statistics.yaml"
    bench.run("prep", "statistics", {"data_path": data, "labels_path": labels}, {"output_path": statistics})
    results = {}
    for model in ("model-ref", "model-cnn"):
        predictions = work / model / "predictions"
        bench.run(model, "infer", {"data_path": data}, {"output_path": predictions})
        result_file = work / model / "results.yaml"
        bench.run(
            "metrics",
            "evaluate",
            {"predictions": predictions, "labels": labels},
            {"output_path": result_file},
            tag=f"-{model}",
        )
        results[model] = yaml.safe_load(result_file.read_text())
    return {
        "data": data,
        "labels": labels,
        "statistics": yaml.safe_load(statistics.read_text()),
        "results": results,
        "work": work,
    }


def test_prepare_writes_one_array_per_image_and_labels(pipeline: dict[str, Any]) -> None:
    assert len(list(pipeline["data"].glob("*.npy"))) == 40
    lines = (pipeline["labels"] / "labels.csv").read_text().splitlines()
    assert lines[0] == "id,label" and len(lines) == 41


def test_statistics_describe_the_prepared_data(pipeline: dict[str, Any]) -> None:
    stats = pipeline["statistics"]
    assert stats["n_images"] == 40
    assert stats["class_counts"] == {"normal": 20, "pneumonia": 20}
    assert stats["image_size"] == [32, 32]
    assert 0.2 < stats["intensity"]["mean"] < 0.8 and 0 < stats["intensity"]["std"] < 0.5


def test_predictions_have_scores_in_unit_interval(pipeline: dict[str, Any]) -> None:
    for model in ("model-ref", "model-cnn"):
        rows = (pipeline["work"] / model / "predictions" / "predictions.csv").read_text().splitlines()
        assert rows[0] == "id,score,prediction" and len(rows) == 41
        assert all(0.0 <= float(row.split(",")[1]) <= 1.0 for row in rows[1:])


def test_metrics_are_sensible(pipeline: dict[str, Any]) -> None:
    ref, cnn = pipeline["results"]["model-ref"], pipeline["results"]["model-cnn"]
    assert ref["n_cases"] == cnn["n_cases"] == 40
    assert ref["accuracy"] > 0.7 and ref["auc"] > 0.8
    assert cnn["accuracy"] > 0.8 and cnn["auc"] > 0.9
    for result in (ref, cnn):
        assert set(result["per_class"]) == {"normal", "pneumonia"}
        for scores in result["per_class"].values():
            assert 0.0 <= scores["sensitivity"] <= 1.0 and 0.0 <= scores["specificity"] <= 1.0
        # binary task: one class's sensitivity is the other's specificity
        assert result["per_class"]["normal"]["sensitivity"] == result["per_class"]["pneumonia"]["specificity"]


@pytest.mark.parametrize("damage", ["missing_array", "corrupt_array", "bad_label"])
def test_sanity_check_rejects_malformed_prepared_data(
    bench: Bench, pipeline: dict[str, Any], tmp_path: Path, damage: str
) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    shutil.copytree(pipeline["data"], data)
    shutil.copytree(pipeline["labels"], labels)
    if damage == "missing_array":
        (data / "cxr_0003.npy").unlink()
    elif damage == "corrupt_array":
        (data / "cxr_0003.npy").write_bytes(b"this is not an array")
    else:
        text = (labels / "labels.csv").read_text().replace("cxr_0003,1", "cxr_0003,7")
        (labels / "labels.csv").write_text(text)
    with pytest.raises(ContainerFailedError, match="sanity_check") as info:
        bench.run("prep", "sanity_check", {"data_path": data, "labels_path": labels}, {}, tag=f"-{damage}")
    log = bench.work / "logs" / f"prep-sanity_check-{damage}.log"
    assert "sanity check failed" in log.read_text() and "cxr_0003" in log.read_text()
    assert info.value.hint and "sanity check failed" in info.value.hint


def test_images_are_reused_when_present(bench: Bench) -> None:
    assert build_tutorial_images() == dict(bench.image_ids)
