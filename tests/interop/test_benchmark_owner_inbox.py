"""The benchmark owner's inbox: `association ls` lists the requests made to the owner's benchmarks.

MedPerf's server lists, under `/me/datasets/associations/` and `/me/mlcubes/associations/`, the associations of the
caller's own datasets (models) and of the caller's own benchmarks (server/utils/views.py); our client relies on it
for the committee's inbox. Against the stand-in written from that code, our CLI shows the waiting requests."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _medperf_standin import StandIn

from medperf_core.testing.server import medperf_command
from medperf_core.testing.tls import self_signed

BO = {"id": 2, "username": "auth0|testbo", "email": "testbo@example.com", "first_name": "Bench", "last_name": "Owner"}
MO, DO, STRANGER = 3, 4, 9


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn()
    server.me = BO
    server.add("mlcube", name="prep", owner=BO["id"])
    server.add("mlcube", name="model", owner=MO)
    server.add("benchmark", name="chestxray", owner=BO["id"], data_preparation_mlcube=1, reference_model_mlcube=1,
               data_evaluator_mlcube=1, state="OPERATION", approval_status="APPROVED")
    server.add("benchmark", name="not-mine", owner=STRANGER, data_preparation_mlcube=1, reference_model_mlcube=1,
               data_evaluator_mlcube=1, state="OPERATION", approval_status="APPROVED")
    server.add("dataset", name="site-a", owner=DO, data_preparation_mlcube=1)
    server.add("dataset_association", dataset=1, benchmark=1, initiated_by=DO, approval_status="PENDING")
    server.add("dataset_association", dataset=1, benchmark=2, initiated_by=DO, approval_status="PENDING")
    server.add("model_association", model_mlcube=2, benchmark=1, initiated_by=MO, approval_status="PENDING")
    server.add("model_association", model_mlcube=2, benchmark=2, initiated_by=MO, approval_status="PENDING")
    cert, key = self_signed(tmp_path / "tls")
    server.start(cert, key)
    yield server
    server.stop()


def medperf(home: Path, *args: str) -> str:
    done = subprocess.run([*medperf_command(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MEDPERF_HOME": str(home)}, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"medperf {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_benchmark_owner_sees_the_requests_waiting_for_a_decision(standin: StandIn, tmp_path: Path) -> None:
    home = tmp_path / "home"
    medperf(home, "profile", "set", "--server", standin.url, "--certificate", str(standin.certificate))
    medperf(home, "auth", "login", "--token", "a-token-from-medperfs-identity-provider")

    datasets = json.loads(medperf(home, "association", "ls", "-d", "--json"))
    models = json.loads(medperf(home, "association", "ls", "-m", "--json"))

    assert [(r["dataset"], r["benchmark"], r["approval_status"]) for r in datasets] == [(1, 1, "PENDING")]
    # (the second benchmark is another owner's: not this owner's inbox)
    assert [(r["model_mlcube"], r["benchmark"], r["approval_status"]) for r in models] == [(2, 1, "PENDING")]


def test_a_data_owner_registers_a_dataset_for_a_benchmark_whose_models_it_may_not_read_yet(
    standin: StandIn, tmp_path: Path
) -> None:
    """`dataset submit --benchmark 1` warms the offline cache with the benchmark; its models' list is an optional
    read that MedPerf refuses (403) to a data owner without an approved association: the write must not fail."""
    standin.me = {**BO, "id": DO, "username": "auth0|testdo", "email": "testdo@example.com"}
    home = tmp_path / "home"
    data, labels = tmp_path / "images", tmp_path / "labels"
    for folder in (data, labels):
        folder.mkdir()
        (folder / "one.txt").write_text(folder.name, encoding="utf-8")
    medperf(home, "profile", "set", "--server", standin.url, "--certificate", str(standin.certificate))
    medperf(home, "auth", "login", "--token", "a-token-from-medperfs-identity-provider")

    medperf(home, "dataset", "submit", "--name", "site-b", "--description", "d", "--location", "here",
            "--data_path", str(data), "--labels_path", str(labels), "--benchmark", "1", "-y")

    assert [d["name"] for d in standin.find("dataset", owner=DO)] == ["site-a", "site-b"]
    refused = [(path.split("?")[0], status) for method, path, status in standin.requests if status >= 400]
    assert refused == [("/api/v0/benchmarks/1/models/", 403)]  # it was asked, and refused
