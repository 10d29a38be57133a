"""The data-owner commands in the wrong order or on bad input: one `❌ Error:` line naming the problem and the
fix, a non-zero exit, and nothing changed — neither the client's log nor the server's. Where a container fails,
the failure itself is recorded (that is the audit trail) but no state moves."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from _e2e import SUBMIT_ARGS, Tutorial

pytestmark = pytest.mark.docker

PREPARE = ("dataset", "prepare", "--data_uid", "1", "-y")
OPERATIONAL = ("dataset", "set_operational", "--data_uid", "1", "-y")
ASSOCIATE = ("dataset", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y")
RUN = ("benchmark", "run", "--benchmark", "1", "--data_uid", "1")


def server_events(t: Tutorial) -> list[dict[str, Any]]:
    import json

    done = t.medperf("events", "ls", "--json", "--server-data-dir", str(t.data_dir), home=t.server_home)
    return json.loads(done.stdout) if done.stdout.strip() else []


@contextmanager
def nothing_changes(t: Tutorial) -> Iterator[None]:
    """Neither the client's log nor the server's log gets an event."""
    client, server = t.events(), server_events(t)
    yield
    assert t.events() == client
    assert server_events(t) == server


def refused(t: Tutorial, *args: str, says: tuple[str, ...], fix: str) -> str:
    with nothing_changes(t):
        line = t.fails(*args)
    for part in says:
        assert part in line, line
    assert fix in line, line
    return line


@pytest.fixture
def t(tutorial_factory: Any) -> Tutorial:
    tutorial: Tutorial = tutorial_factory()
    return tutorial


def test_prepare_before_submit(t: Tutorial) -> None:
    refused(t, *PREPARE, says=("dataset 1 is not registered from this machine",), fix="medperf dataset ls --mine")
    assert t.get("do", "/datasets/")["count"] == 0


def test_set_operational_before_prepare(t: Tutorial) -> None:
    t.submit()
    refused(t, *OPERATIONAL, says=("dataset 1 is not prepared yet",), fix="medperf dataset prepare --data_uid 1")
    assert t.server_dataset()["state"] == "DEVELOPMENT"


def test_associate_before_prepare_and_before_operational(t: Tutorial) -> None:
    t.submit()
    refused(t, *ASSOCIATE, says=("dataset 1 is not operational",), fix="medperf dataset prepare --data_uid 1")
    t.prepare()
    refused(t, *ASSOCIATE, says=("dataset 1 is not operational",), fix="medperf dataset set_operational --data_uid 1")
    assert t.server_dataset()["state"] == "DEVELOPMENT"
    assert t.api("do", "GET", "/datasets/1/benchmarks/1/").status_code == 404


def test_run_before_association_and_before_approval(t: Tutorial) -> None:
    t.until("operational")
    refused(
        t,
        *RUN,
        says=("dataset 1 is not associated with benchmark 1",),
        fix="medperf dataset associate --benchmark_uid 1 --data_uid 1",
    )
    t.associate()
    refused(
        t,
        *RUN,
        says=("association of dataset 1 with benchmark 1 is pending",),
        fix="wait for the benchmark committee to approve it",
    )
    t.login("bo")
    t.medperf("association", "reject", "-b", "1", "-d", "1")
    t.login("do")
    # the client learns of the rejection from the server; that is recorded, nothing runs
    n = len(t.events())
    line = t.fails(*RUN)
    assert "is rejected" in line, line
    assert [e["type"] for e in t.events()[n:]] == ["association.rejected"]
    assert t.get("do", "/results/")["count"] == 0


def test_everything_twice(t: Tutorial) -> None:
    t.until("approve")
    refused(t, *OPERATIONAL, says=("dataset 1 is already operational",), fix="nothing to do")
    refused(
        t,
        *PREPARE,
        says=("dataset 1 is operational and cannot be prepared again",),
        fix="register the data as a new dataset",
    )
    t.medperf(*RUN)
    t.medperf("result", "submit", "--result", "b1m4d1", "-y")
    refused(
        t,
        "result",
        "submit",
        "--result",
        "b1m4d1",
        "-y",
        says=("result b1m4d1 was already submitted (server id 1)",),
        fix="nothing to do",
    )
    assert t.get("do", "/results/")["count"] == 1


def test_associate_twice(t: Tutorial) -> None:
    t.until("associate")
    with nothing_changes(t):
        line = t.fails(*ASSOCIATE)
    assert "already" in line.lower() or "exists" in line.lower(), line


def test_result_submit_of_an_unknown_uid(t: Tutorial) -> None:
    refused(
        t, "result", "submit", "--result", "b9m9d9", "-y", says=("no local result 'b9m9d9'",), fix="medperf result ls"
    )


def test_submit_with_bad_paths(t: Tutorial) -> None:
    images, labels = "medperf_tutorial/sample_raw_data/images", "medperf_tutorial/sample_raw_data/labels"
    base = ["dataset", "submit", "--name", "x", "--benchmark", "1", "-y"]
    (t.work / "empty").mkdir()
    cases = [
        (("--data_path", "nowhere", "--labels_path", labels), "data path", "does not exist"),
        (("--data_path", images, "--labels_path", "nowhere/labels"), "labels path", "does not exist"),
        (("--data_path", images, "--labels_path", f"{labels}/labels.csv"), "labels path", "is not a folder"),
        (("--data_path", "empty", "--labels_path", labels), "data path", "is empty"),
    ]
    for extra, what, problem in cases:
        line = refused(t, *base, *extra, says=(what, problem), fix="(")
        assert re.search(r"\(.+\)$", line), line  # a fix in parentheses
    assert t.get("do", "/datasets/")["count"] == 0
    refused(
        t,
        *SUBMIT_ARGS[:-3],
        "--benchmark",
        "99",
        "-y",
        says=("benchmark 99 does not exist",),
        fix="medperf benchmark ls",
    )


def test_the_same_data_twice(t: Tutorial) -> None:
    t.submit()
    args = list(SUBMIT_ARGS)
    args[args.index("mytestdata")] = "again"
    refused(
        t,
        *args,
        says=("this data is already registered as dataset 1 (mytestdata)",),
        fix="medperf dataset prepare --data_uid 1",
    )
    assert t.get("do", "/datasets/")["count"] == 1


def test_malformed_labels_fail_prepare_then_fixed_labels_resume(t: Tutorial) -> None:
    labels = t.raw / "labels" / "labels.csv"
    good = labels.read_text()
    lines = good.splitlines()
    image = lines[3].split(",")[0]
    lines[3] = f"{image},pneumoniaa"
    labels.write_text("\n".join(lines) + "\n")
    t.submit()
    before = t.events()
    line = t.fails(*PREPARE)
    log = t.home / "profiles" / "local" / "datasets" / "1" / "logs" / "prepare.log"
    assert "dataset preparation failed at step prepare" in line, line
    assert str(log) in line, line
    # prep.py exits with its reason; the line carries it (the log's last line) and the fix
    assert f"image {image}: unknown label 'pneumoniaa'" in line, line
    assert "re-run `medperf dataset prepare --data_uid 1`" in line, line
    assert "unknown label 'pneumoniaa'" in log.read_text()
    new = t.events()[len(before) :]
    assert [e["type"] for e in new] == [
        "dataset.report_updated",
        "dataset.preparation_failed",
        "dataset.report_updated",
    ]
    assert new[1]["payload"]["step"] == "prepare" and new[1]["payload"]["log_path"] == str(log)
    server = t.server_dataset()
    assert server["state"] == "DEVELOPMENT" and server["report"] == {"execution_status": "failed"}
    assert not (log.parent.parent / "data").exists()  # no half-prepared output left as if it were done

    labels.write_text(good)
    out = t.medperf(*PREPARE).stdout
    assert "[1/3] prepare: done" in out and "[3/3] statistics: done" in out, out
    t.operational()
    assert t.server_dataset()["state"] == "OPERATION"


def _register_variant(t: Tutorial, role: str, source: int, name: str, task: str, command: str) -> int:
    """A copy (as `role`) of seeded container `source` whose `task` runs `command` instead."""
    row = t.get("bo", f"/mlcubes/{source}/")
    config = copy.deepcopy(row["container_config"])
    config["tasks"][task]["run_args"]["command"] = command
    fields = ("parameters_config", "image_hash", "additional_files_tarball_url", "additional_files_tarball_hash")
    body = {
        "name": name,
        "container_config": config,
        "state": "OPERATION",
        **{k: row[k] for k in fields if row.get(k) is not None},
    }
    response = t.api(role, "POST", "/mlcubes/", body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_failing_sanity_check_stops_prepare_and_the_rerun_resumes_there(t: Tutorial) -> None:
    failing = "python3 -c \"import sys; sys.exit('sanity check failed: case cxr_0001: values outside [0, 1]')\""
    prep = _register_variant(t, "bo", 1, "prep-strict", "sanity_check", failing)
    args = [a for a in SUBMIT_ARGS if a not in ("--benchmark", "1")]
    t.medperf(*args[:-1], "--data_prep", str(prep), "-y")
    for _attempt in range(2):
        line = t.fails(*PREPARE)
        assert "dataset preparation failed at step sanity_check" in line, line
        assert "exited with code 1" in line and "sanity_check.log" in line, line
        assert "values outside [0, 1]" in line, line
    out = t.medperf(*PREPARE, ok=False).stdout
    assert "[1/3] prepare: already done, skipped" in out, out  # resumed at the failed step
    assert "[2/3] sanity_check: running" in out
    local = [e for e in t.events() if e["type"].startswith("dataset.prep")]
    assert [e["type"] for e in local].count("dataset.preparation_step_finished") == 1
    assert "dataset.prepared" not in [e["type"] for e in local]
    assert t.server_dataset()["state"] == "DEVELOPMENT"
    refused(t, *OPERATIONAL, says=("not prepared yet",), fix="medperf dataset prepare")


@pytest.fixture
def broken_model(t: Tutorial) -> int:
    """Model 5 (testmo): the reference model's image, but infer exits 1; approved in benchmark 1 by testbo."""
    model = _register_variant(
        t,
        "mo",
        2,
        "model-broken",
        "infer",
        "python3 -c \"import sys; sys.exit('cannot load weights: file is truncated')\"",
    )
    response = t.api("mo", "POST", "/mlcubes/benchmarks/", {"model_mlcube": model, "benchmark": 1})
    assert response.status_code == 201, response.text
    response = t.api("bo", "PUT", f"/mlcubes/{model}/benchmarks/1/", {"approval_status": "APPROVED"})
    assert response.status_code == 200, response.text
    return model


def test_a_broken_model_stops_the_run_unless_ignored(t: Tutorial, broken_model: int) -> None:
    assert broken_model == 5
    t.until("approve")
    line = t.fails(*RUN)
    assert "infer" in line and "exited with code 1" in line and "cannot load weights" in line, line
    assert "executions/b1m5d1/logs/infer.log" in line, line
    executions = {e["stream"]: e["type"] for e in t.events() if e["stream"].startswith("execution-")}
    assert executions == {
        "execution-b1m2d1": "execution.finished",
        "execution-b1m4d1": "execution.finished",
        "execution-b1m5d1": "execution.failed",
    }
    assert t.get("do", "/results/")["count"] == 0
    refused(
        t,
        "result",
        "submit",
        "--result",
        "b1m5d1",
        "-y",
        says=("result b1m5d1 is failed, only finished results can be submitted",),
        fix="medperf benchmark run --benchmark 1 --data_uid 1",
    )

    out = t.medperf(*RUN, "--ignore-model-errors").stdout
    rows = {int(m[1]): m[0] for m in re.finditer(r"^(\d+)\s+b1m\d+d1\s.*$", out, re.M)}
    assert sorted(rows) == [2, 4, 5], out
    assert re.search(r"b1m2d1\s+False\s+True\s*$", rows[2]) and re.search(r"b1m4d1\s+False\s+True\s*$", rows[4])
    assert "exited with code 1" in rows[5] and "False  " in rows[5], rows[5]
    assert "Total number of models: 3" in out and "1 failed" in out and "\n✅ Done!\n" in out

    # --no-cache reruns every model that has no submitted result; the broken one still fails, the rest pass
    n = len(t.events())
    out = t.medperf(*RUN, "--ignore-model-errors", "--no-cache").stdout
    assert "2 ran successfully" in out and "1 failed" in out and "0 were skipped" in out, out
    new = [(e["stream"], e["type"]) for e in t.events()[n:]]
    assert new == [
        ("execution-b1m2d1", "execution.started"),
        ("execution-b1m2d1", "execution.finished"),
        ("execution-b1m4d1", "execution.started"),
        ("execution-b1m4d1", "execution.finished"),
        ("execution-b1m5d1", "execution.started"),
        ("execution-b1m5d1", "execution.failed"),
    ]
    t.medperf("result", "submit", "--result", "b1m4d1", "-y")
    assert t.get("do", "/results/")["count"] == 1


def test_a_client_log_altered_by_hand_takes_no_new_event(t: Tutorial) -> None:
    """`events verify` says the log is broken: the next write command refuses in one line, sends nothing to the
    server and appends nothing, instead of extending a chain that no longer verifies."""
    import sqlite3

    t.submit()
    (log,) = [p for p in t.home.rglob("events.db") if "server" not in str(p)]
    conn = sqlite3.connect(log, isolation_level=None)
    conn.execute("UPDATE events SET actor = 'mallory@example.com' WHERE position = 1")
    conn.close()
    assert "broken at position 1" in t.fails("events", "verify")
    with nothing_changes(t):
        line = t.fails(*PREPARE)
    assert "altered by hand" in line and "medperf events verify" in line, line
    assert t.server_dataset()["state"] == "DEVELOPMENT"
