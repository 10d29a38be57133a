"""Our client (the real `medperf` CLI) runs the data-owner tutorial against a server that serves only MedPerf's fields.

The stand-in (`_medperf_standin`) holds what MedPerf's server holds after its own tutorial seeding: containers
registered the MedPerf way (config, parameters and additional files as files at URLs with their sha256, no inline
config), benchmark 1 with its reference model 2 and an approved second model 4. Its answers carry MedPerf's fields
only, so any field of ours the client needed would break a command here."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _medperf_standin import StandIn

from medperf_core.testing.runner_contract import require_engine
from medperf_core.testing.server import medperf_command
from medperf_core.testing.tls import self_signed

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

DO = {"id": 4, "username": "auth0|testdo", "email": "testdo@example.com", "first_name": "Data", "last_name": "Owner"}
BO, MO = 2, 3


def register_tutorial(standin: StandIn, folder: Path) -> None:
    """MedPerf's tutorial entities: containers 1 prep, 2 reference model, 3 metrics (the benchmark owner's), 4 the
    second model (the model owner's); benchmark 1, operational and approved, with model 4 approved."""
    from medperf_core.services.tarballs import make_tarball
    from medperf_core.tutorial.data import generate_raw_data
    from medperf_core.tutorial.images import build_tutorial_images, tutorial_containers

    images = build_tutorial_images()
    by_name = {c.name: c for c in tutorial_containers()}
    for name, owner in (("prep", BO), ("model-ref", BO), ("metrics", BO), ("model-cnn", MO)):
        container = by_name[name]
        row: dict[str, Any] = {"name": f"chestxray-{name}", "owner": owner, "state": "OPERATION",
                               "image_hash": images[name].removeprefix("sha256:")}
        row["git_mlcube_url"], row["mlcube_hash"] = standin.publish(container.config_path)
        if container.parameters_path.exists():
            row["git_parameters_url"], row["parameters_hash"] = standin.publish(container.parameters_path)
        if container.additional_files_path is not None:
            tarball = make_tarball(container.additional_files_path, folder / f"{name}-additional_files.tar.gz")
            row["additional_files_tarball_url"], row["additional_files_tarball_hash"] = standin.publish(tarball)
        standin.add("mlcube", **row)
    generate_raw_data(folder / "demo" / "data", n_images=4, seed=3)
    demo_url, demo_hash = standin.publish(make_tarball(folder / "demo", folder / "demo.tar.gz"))
    standin.add(
        "benchmark", name="chestxray", description="Chest X-ray tutorial", owner=BO,
        demo_dataset_tarball_url=demo_url, demo_dataset_tarball_hash=demo_hash, data_preparation_mlcube=1,
        reference_model_mlcube=2, data_evaluator_mlcube=3, state="OPERATION", approval_status="APPROVED",
    )
    standin.add("model_association", model_mlcube=4, benchmark=1, initiated_by=MO, approval_status="APPROVED")


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    from medperf_docker.runner import DockerRunner

    require_engine(DockerRunner())
    server = StandIn()
    server.me = DO
    cert, key = self_signed(tmp_path / "tls")
    server.start(cert, key)
    register_tutorial(server, tmp_path / "published")
    yield server
    server.stop()


class Cli:
    def __init__(self, work: Path, home: Path) -> None:
        self.work, self.home = work, home

    def __call__(self, *args: str) -> str:
        env = {**os.environ, "MEDPERF_HOME": str(self.home)}
        done = subprocess.run([*medperf_command(), *args], cwd=self.work, capture_output=True, text=True,
                              timeout=600, env=env, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"medperf {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout


def test_the_data_owner_tutorial_against_a_medperf_shaped_server(standin: StandIn, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    medperf = Cli(work, tmp_path / "home")
    medperf("profile", "set", "--server", standin.url, "--certificate", str(standin.certificate))
    who = medperf("auth", "login", "--token", "a-token-from-medperfs-identity-provider")
    assert "testdo@example.com" in who, who
    medperf("tutorial", "setup", "data", "--skip-build")

    listed = medperf("benchmark", "ls")
    assert re.search(r"^1\s+chestxray\s", listed, re.M), listed
    submitted = medperf(
        "dataset", "submit", "--name", "mytestdata", "--description", "A tutorial dataset", "--location",
        "My machine", "--data_path", "medperf_tutorial/sample_raw_data/images", "--labels_path",
        "medperf_tutorial/sample_raw_data/labels", "--benchmark", "1", "-y",
    )
    assert "✅ Dataset registered with UID 1" in submitted, submitted
    prepared = medperf("dataset", "prepare", "--data_uid", "1", "-y")
    assert "✅ Dataset 1 prepared" in prepared, prepared
    operational = medperf("dataset", "set_operational", "--data_uid", "1", "-y")
    assert "✅ Dataset 1 is operational" in operational, operational
    associated = medperf("dataset", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y")
    assert "✅ Association requested (status PENDING)" in associated, associated

    # the benchmark committee approves on MedPerf's server
    (association,) = standin.find("dataset_association", dataset=1, benchmark=1)
    association["approval_status"] = "APPROVED"
    approved = medperf("association", "ls", "-bd")
    assert re.search(r"^dataset\s+1\s+1\s+\d+\s+APPROVED", approved, re.M), approved

    ran = medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1")
    assert "Total number of models: 2" in ran and "0 failed" in ran, ran
    sent = medperf("result", "submit", "--result", "b1m4d1", "-y")
    assert "✅ Result b1m4d1 submitted (server UID 1)" in sent, sent

    # what a data owner looks at along the way reads MedPerf's entities too
    for command in (("benchmark", "view", "1"), ("dataset", "ls", "--mine"), ("dataset", "view", "1"),
                    ("container", "ls"), ("container", "view", "4"), ("result", "ls"), ("result", "view", "b1m4d1"),
                    ("association", "ls")):
        assert medperf(*command).strip(), command

    (dataset,) = standin.tables["dataset"]
    assert dataset["state"] == "OPERATION" and dataset["generated_uid"] != dataset["input_data_hash"]
    assert dataset["generated_metadata"]["n_images"] == 40
    (result,) = standin.tables["result"]
    assert (result["benchmark"], result["model"], result["dataset"]) == (1, 4, 1) and "accuracy" in result["results"]
    # the one refusal: the benchmark's models, an optional read before the association is approved (MedPerf lets
    # only the benchmark's owner and owners of approved datasets read them); the run read them after the approval
    refused = [(method, path.split("?")[0], status) for method, path, status in standin.requests if status >= 400]
    assert refused == [("GET", "/api/v0/benchmarks/1/models/", 403)], refused
    downloaded = {path for method, path, _ in standin.requests if path.startswith("/files/")}
    published = {f"/files/{h}" for h in standin.files}
    assert downloaded == published - {f"/files/{standin.tables['benchmark'][0]['demo_dataset_tarball_hash']}"}, (
        downloaded, published)
