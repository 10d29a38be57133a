"""MedPerf's report file: a preparation container writes its subjects' progress while it runs; `dataset prepare`
reads it as it changes and says it (a live detail on a terminal, plain lines otherwise). With real containers on
Docker and Apptainer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from _owner_world import World

from medperf_core.services import datasets, report_progress
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image
from medperf_core.testing.runner_contract import require_engine

# The preparation writes the report in three states, two seconds apart, as MedPerf's data preparation containers
# do (pandas' to_dict(): one mapping per column, subject -> value), then copies the data.
_PREPARE = r"""
w() { printf 'status:\n  case1.txt: %s\n  case2.txt: %s\n  case3.txt: %s\nstatus_name:\n  case1.txt: x\n' \
  "$1" "$2" "$3" > /out/report/report.yaml; }
w 1 1 1; sleep 2; w 2 2 1; sleep 2; w 3 3 3
cp -r /in/data_path/. /out/output_path/ && cp -r /in/labels_path/. /out/output_labels_path/
"""

PREP_WITH_REPORT: dict[str, Any] = {
    "container_type": "DockerImage",
    "image": TEST_IMAGE,
    "tasks": {
        "prepare": {
            "run_args": {"command": ["sh", "-c", _PREPARE]},
            "input_volumes": {"data_path": {"mount_path": "/in/data_path", "type": "directory"},
                              "labels_path": {"mount_path": "/in/labels_path", "type": "directory"}},
            "output_volumes": {"output_path": {"mount_path": "/out/output_path", "type": "directory"},
                               "output_labels_path": {"mount_path": "/out/output_labels_path", "type": "directory"},
                               "report_file": {"mount_path": "/out/report/report.yaml", "type": "file"}},
        },
        "sanity_check": {
            "run_args": {"command": ["sh", "-c", "test -f /in/labels_path/labels.csv"]},
            "input_volumes": {"data_path": {"mount_path": "/in/data_path", "type": "directory"},
                              "labels_path": {"mount_path": "/in/labels_path", "type": "directory"}},
        },
        "statistics": {
            "run_args": {"command": ["sh", "-c", "echo 'n_cases: 3' > /out/stats/statistics.yaml"]},
            "input_volumes": {"data_path": {"mount_path": "/in/data_path", "type": "directory"},
                              "labels_path": {"mount_path": "/in/labels_path", "type": "directory"}},
            "output_volumes": {"output_path": {"mount_path": "/out/stats/statistics.yaml", "type": "file"}},
        },
    },
}


def test_the_summary_is_medperfs() -> None:
    columns = {"status": {"a": 1, "b": 3, "c": 3, "d": 3, "e": 1}, "comment": {"a": "", "b": ""}}
    assert report_progress.summary(columns) == {"Stage 1": "40.0%", "Stage 3": "60.0%"}
    assert report_progress.describe(columns) == "report: 5 subjects, Stage 1 40.0%, Stage 3 60.0%"
    rows = [{"status": "DONE"}, {"status": "DONE"}, {"status": "MISSING"}]
    assert report_progress.summary(rows) == {"Stage DONE": "66.7%", "Stage MISSING": "33.3%"}
    for nothing in (None, {}, {"comment": {"a": "x"}}, "half a fi", [1, 2], {"status": "running"}):
        assert report_progress.summary(nothing) == {} and report_progress.describe(nothing) == ""


def test_a_half_written_report_is_read_at_its_next_change(tmp_path: Path) -> None:
    final = tmp_path / "report.yaml"
    staging = tmp_path / ".report.yaml.medperf-0123abcd"
    staging.mkdir()
    said: list[str] = []
    with report_progress.watch(final, "/out/report/report.yaml", said.append, interval=0.05):
        (staging / "report.yaml").write_text("status: {a: 1, b:")  # not YAML yet
        time.sleep(0.3)
        assert said == []
        (staging / "report.yaml").write_text("status: {a: 1, b: 2}\n")
        _until(lambda: bool(said))
    assert said == [report_progress.DETAIL + "report: 2 subjects, Stage 1 50.0%, Stage 2 50.0%"]


def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("platform", [pytest.param("docker", marks=pytest.mark.docker),
                                      pytest.param("singularity", marks=pytest.mark.singularity)])
def test_prepare_shows_the_progress_the_container_reports(world: World, platform: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    runner = require_engine(world.client.host.runners.get(platform)())
    digest = ensure_test_image()
    prep = world.backends["bo"].create_container({
        "name": "prep-with-report", "container_config": PREP_WITH_REPORT, "parameters_config": {},
        "image_hash": digest, "state": "OPERATION"})["id"]
    plan = datasets.plan_submission(world.client, name="reported", description="", location="", data_path=world.data,
                                    labels_path=world.labels, benchmark=None, data_prep=int(prep))
    dataset = int(datasets.submit(world.client, plan)["id"])
    world.client.runner = runner
    monkeypatch.setattr(report_progress, "POLL_S", 0.2)

    said: list[tuple[float, str]] = []
    datasets.prepare(world.client, dataset, say=lambda line: said.append((time.monotonic(), line)))
    lines = [line for _, line in said]
    reports = [line.removeprefix(report_progress.DETAIL) for line in lines if line.startswith(report_progress.DETAIL)]
    # every state the container wrote, in order, each once, while the prepare step ran
    assert reports == ["report: 3 subjects, Stage 1 100.0%",
                       "report: 3 subjects, Stage 1 33.3%, Stage 2 66.7%",
                       "report: 3 subjects, Stage 3 100.0%"], lines
    started = lines.index("[1/3] prepare: running …")
    finished = next(i for i, line in enumerate(lines) if line.startswith("[1/3] prepare: done"))
    first_report = lines.index(report_progress.DETAIL + reports[0])
    assert started < first_report < finished
    # the first states were read while the container ran (seconds before it finished), not afterwards
    assert said[finished][0] - said[first_report][0] > 2.5
    folder = datasets.dataset_folder(world.client, dataset)
    assert report_progress.summary(report_progress.read(folder / "report.yaml")) == {"Stage 3": "100.0%"}
    assert world.client.local.dataset(dataset)["state"] == "prepared"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging folder left
