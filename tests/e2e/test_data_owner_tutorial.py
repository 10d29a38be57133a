"""The data-owner tutorial, command by command as the docs give it, on Docker, Singularity/Apptainer and Slurm."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _e2e import SUBMIT_ARGS, Tutorial

EXPECTED_EVENTS = [
    "request.pending",  # the registration, recorded before it is sent
    "dataset.registered",
    "request.done",  # the server's answer, recorded with its consequence
    "dataset.report_updated",  # preparation started
    "dataset.preparation_step_finished",  # prepare
    "dataset.preparation_step_finished",  # sanity_check
    "dataset.preparation_step_finished",  # statistics
    "dataset.prepared",
    "dataset.report_updated",  # preparation finished
    "request.pending",
    "dataset.marked_operational",
    "request.done",
    "execution.started",  # compatibility test: the reference model
    "execution.finished",
    "request.pending",
    "association.requested",
    "request.done",
    "request.pending",  # the benchmark owner's approval, logged in on this machine as in the tutorial
    "request.done",
    "association.approved",  # seen by the data owner when it next asks the server
    "execution.started",  # benchmark run: the second model
    "execution.finished",
    "request.pending",
    "result.submitted",
    "request.done",
]


def summary_rows(stdout: str) -> dict[int, list[str]]:
    """model → [local result UID, partial result, from cache, error] from `benchmark run`'s table."""
    rows = {}
    for line in stdout.splitlines():
        match = re.match(r"^(\d+)\s+(b\d+m\d+d\d+)\s+(True|False)\s+(True|False)\s*(.*)$", line)
        if match:
            rows[int(match[1])] = [match[2], match[3], match[4], match[5].strip()]
    return rows


NEXT = "Next, send the results to the benchmark (only their metrics leave this machine):"


def check_summary(stdout: str, *, cached: dict[int, bool], unsent: tuple[str, ...] = ("b1m2d1",)) -> None:
    rows = summary_rows(stdout)
    assert sorted(rows) == sorted(cached), stdout
    for model, from_cache in cached.items():
        assert rows[model] == [f"b1m{model}d1", "False", str(from_cache), ""], stdout
    assert "Total number of models: 2" in stdout
    n_cached = sum(cached.values())
    assert f"{n_cached} were skipped (already executed), of which 0 have partial results" in stdout
    assert "0 failed" in stdout
    assert f"{len(cached) - n_cached} ran successfully, of which 0 have partial results" in stdout
    # then, as MedPerf's tutorial says, the exact commands that send the results not sent yet
    after = stdout.rstrip().split("✅ Done!\n")[-1].splitlines()
    assert after == [NEXT, *(f"  medperf result submit --result {uid}" for uid in unsent)], stdout


def run_tutorial(t: Tutorial) -> None:
    """Every command of the tutorial, with what each one must print."""
    t.login("do")
    listed = t.medperf("benchmark", "ls").stdout
    assert re.search(r"^1\s+chestxray\s", listed, re.M), listed

    submitted = t.medperf(*SUBMIT_ARGS).stdout
    assert "your data stays on this machine" in submitted and "✅ Dataset registered with UID 1" in submitted
    mine = t.medperf("dataset", "ls", "--mine").stdout
    assert re.search(r"^1\s+mytestdata\s+1\s+DEVELOPMENT\s+registered", mine, re.M), mine

    prepared = t.medperf("dataset", "prepare", "--data_uid", "1", "-y").stdout
    for index, step in enumerate(("prepare", "sanity_check", "statistics"), start=1):
        assert f"[{index}/3] {step}: done" in prepared, prepared
    assert "✅ Dataset 1 prepared" in prepared and "n_images: 40" in prepared

    operational = t.medperf("dataset", "set_operational", "--data_uid", "1", "-y").stdout
    assert "state: OPERATION" in operational and "✅ Dataset 1 is operational" in operational

    associated = t.medperf("dataset", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y").stdout
    assert "test_result:" in associated and "✅ Association requested (status PENDING)" in associated
    pending = t.medperf("association", "ls", "-bd").stdout
    assert re.search(r"^dataset\s+1\s+1\s+\d+\s+PENDING", pending, re.M), pending

    t.approve_dataset()
    approved = t.medperf("association", "ls", "-bd").stdout
    assert re.search(r"^dataset\s+1\s+1\s+\d+\s+APPROVED", approved, re.M), approved

    ran = t.medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1").stdout
    check_summary(ran, cached={2: True, 4: False}, unsent=("b1m2d1", "b1m4d1"))

    viewed = t.medperf("result", "view", "b1m4d1").stdout
    assert "uid: b1m4d1" in viewed and "state: finished" in viewed and "accuracy:" in viewed, viewed
    sent = t.medperf("result", "submit", "--result", "b1m4d1", "-y").stdout
    assert "✅ Result b1m4d1 submitted (server UID 1)" in sent, sent


def check_server_state(t: Tutorial) -> None:
    dataset = t.server_dataset()
    assert dataset["state"] == "OPERATION"
    assert dataset["generated_uid"] and dataset["generated_uid"] != dataset["input_data_hash"]
    stats = dataset["generated_metadata"]
    assert stats["n_images"] == 40 and set(stats["class_counts"]) == {"normal", "pneumonia"}, stats
    do_id = t.get("do", "/me/")["id"]
    assert dataset["owner"] == do_id

    association = t.get("do", "/datasets/1/benchmarks/1/")
    assert association["approval_status"] == "APPROVED", association

    result = t.get("do", "/results/1/")
    local = t.medperf("result", "view", "b1m4d1", "--format", "json").stdout
    import json

    metrics = json.loads(local)["metrics"]
    assert result["results"] == metrics and "accuracy" in metrics
    assert (result["benchmark"], result["model"], result["dataset"]) == (1, 4, 1)
    assert result["owner"] == do_id
    # the benchmark owner sees it too
    assert t.get("bo", "/results/1/")["id"] == 1


def check_client_log(t: Tutorial) -> list[dict[str, Any]]:
    events = t.events()
    assert [e["type"] for e in events] == EXPECTED_EVENTS
    approval = EXPECTED_EVENTS.index("association.approved") - 2
    assert {e["actor"] for e in events[approval : approval + 2]} == {"testbo@example.com"}
    assert {e["actor"] for i, e in enumerate(events) if i not in (approval, approval + 1)} == {"testdo@example.com"}
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))
    submitted = events[-2]["payload"]
    assert submitted["uid"] == "b1m4d1" and submitted["result_id"] == 1
    assert "intact" in t.medperf("events", "verify").stdout
    assert "every projection equals the live state" in t.medperf("events", "replay", "--check-only").stdout
    assert "intact" in t.medperf("events", "verify", "--server-data-dir", str(t.data_dir), home=t.server_home).stdout
    return events


def check_rerun(t: Tutorial) -> None:
    again = t.medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1").stdout
    check_summary(again, cached={2: True, 4: True})
    assert "infer" not in again  # nothing ran
    n_events = len(t.events())
    fresh = t.medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1", "--no-cache").stdout
    # model 2 reruns; model 4's result was submitted, so it is final and kept
    check_summary(fresh, cached={2: False, 4: True})
    assert "model 2: infer" in fresh and "model 4: infer" not in fresh
    assert "result b1m4d1 was submitted (server UID 1); kept" in fresh
    new = t.events()[n_events:]
    assert [e["type"] for e in new] == ["execution.started", "execution.finished"]
    assert {e["stream"] for e in new} == {"execution-b1m2d1"}
    # the rerun does not touch the submitted result on the server
    submitted = t.events()[EXPECTED_EVENTS.index("result.submitted")]["payload"]
    assert t.get("do", "/results/1/")["results"] == submitted["metrics"]


@pytest.mark.docker
def test_data_owner_tutorial_on_docker(tutorial_factory: Any) -> None:
    t: Tutorial = tutorial_factory()
    run_tutorial(t)
    check_server_state(t)
    check_client_log(t)
    check_rerun(t)
    assert t.medperf("events", "verify").returncode == 0


@pytest.mark.singularity
def test_data_owner_tutorial_on_singularity(tutorial_factory: Any) -> None:
    t: Tutorial = tutorial_factory(platform="singularity")
    run_tutorial(t)
    check_server_state(t)
    check_client_log(t)
    check_rerun(t)
    # the containers really ran from SIFs built from the four tutorial images (prep, two models, metrics)
    images = {t.get("do", f"/mlcubes/{i}/")["image_hash"].split(":")[-1] for i in (1, 2, 3, 4)}
    assert {p.stem for p in (t.home / "sif").glob("*.sif")} == images


@pytest.mark.slurm
def test_data_owner_tutorial_on_slurm(tutorial_factory: Any) -> None:
    t: Tutorial = tutorial_factory(platform="slurm")
    run_tutorial(t)  # `benchmark run` without --parallel: as many models at once as the partition accepts
    check_server_state(t)
    check_client_log(t)
    check_rerun(t)
    # every task ran as a Slurm job from a SIF in the shared folder (default: MEDPERF_HOME/slurm)
    images = {t.get("do", f"/mlcubes/{i}/")["image_hash"].split(":")[-1] for i in (1, 2, 3, 4)}
    assert {p.stem for p in (t.home / "slurm" / "sif").glob("*.sif")} == images
    assert list((t.home / "slurm" / "jobs").iterdir()) == []
    parallel = t.medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1", "--no-cache", "--parallel", "2")
    check_summary(parallel.stdout, cached={2: False, 4: True})
