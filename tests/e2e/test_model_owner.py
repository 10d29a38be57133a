"""MedPerf's model-owner tutorial on its own: a server seeded with `medperf server seed --demo model` (the
benchmark-owner tutorial's result, nothing run before), through the real CLI and Docker; then `test run` on a
prepared dataset (`--data_uid`) and `test run --offline` against a server that is down."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _e2e import SUBMIT_ARGS, Tutorial, require_platform

from medperf_core.testing.server import free_port, start_server

W = "medperf_tutorial"
PREP, CNN, MOBILE, METRICS = (f"{W}/{f}/container_config.yaml" for f in ("data_preparator", "model_custom_cnn",
                                                                        "model_mobilenetv2", "metrics"))


class ModelOwner(Tutorial):
    """A fresh server seeded with `--demo model` and the model tutorial's workspace."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home, self.platform = root, home, "docker"
        self.work = root / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.data_dir, self.server_home = root / "server-data", root / "server-home"
        port = free_port()  # the seeded files are published under the server's URL
        seeded = self.medperf("server", "seed", "--demo", "model", "--data-dir", str(self.data_dir),
                              "--public-url", f"http://127.0.0.1:{port}", home=self.server_home).stdout
        assert "benchmark 1: tutorial_bmk (OPERATION, approved; reference model 2)" in seeded, seeded
        self.server = start_server(self.data_dir, port, env={"MEDPERF_HOME": str(self.server_home)})
        self.url = self.server.url
        self.medperf("profile", "set", "--server", self.url)
        made = self.medperf("tutorial", "setup", "model").stdout
        assert "model_mobilenetv2" in made, made
        self.role = ""


@pytest.fixture
def model_owner(tmp_path: Path, medperf_home: Path) -> Iterator[ModelOwner]:
    require_platform("docker")
    tutorial = ModelOwner(tmp_path / "t", medperf_home)
    yield tutorial
    if tutorial.server.process.poll() is None:
        tutorial.close()


class Listener:
    """Something on the server's port that counts every connection and hangs up: the server, down."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def ran_test(out: str) -> dict[str, Any]:
    assert "never submitted" in out and "accuracy:" in out, out
    return {"from_cache": "from_cache: true" in out}


@pytest.mark.docker
def test_the_model_owner_tutorial_from_the_model_seed_alone(model_owner: ModelOwner) -> None:
    t = model_owner
    t.login("mo")
    assert re.search(r"^1\s+tutorial_bmk\s.*OPERATION\s+APPROVED", t.medperf("benchmark", "ls").stdout, re.M)
    assert not ran_test(t.medperf("test", "run", "--benchmark", "1", "--model", MOBILE).stdout)["from_cache"]
    # one task at a time, on folders the model owner names: a local config, then the registered reference model
    prepared = t.medperf("container", "run_test", "-m", PREP, "-t", "prepare", "--mounts",
                         f"data_path={W}/demo_data/images,labels_path={W}/demo_data/labels,output_path=rt/data,"
                         "output_labels_path=rt/labels", "-o", "rt/prepare.log").stdout
    assert "✅ Task prepare of" in prepared and (t.work / "rt" / "prepare.log").is_file(), prepared
    assert any((t.work / "rt" / "data").iterdir()) and any((t.work / "rt" / "labels").iterdir())
    for model, out in ((MOBILE, "rt/mobile"), ("2", "rt/cnn")):
        inferred = t.medperf("container", "run_test", "-m", model, "-t", "infer", "--mounts",
                             f"data_path=rt/data,output_path={out}", "-e", "TUTORIAL=1").stdout
        assert "✅ Task infer of" in inferred and any((t.work / out).iterdir()), inferred
    assert "no path for the volume(s) output_path" in t.fails("container", "run_test", "-m", MOBILE, "-t", "infer",
                                                            "--mounts", "data_path=rt/data")
    assert not (t.work / "rt" / "missing").exists()
    out = t.medperf("container", "submit", "--name", "my-model", "--container-config-file", MOBILE,
                    "--parameters-file", f"{W}/model_mobilenetv2/workspace/parameters.yaml", "--additional-file",
                    f"{W}/model_mobilenetv2/mobilenetv2_weights.tar.gz", "--operational", "-y").stdout
    assert "✅ Container registered with UID 4 (OPERATION)" in out, out
    assert re.search(r"^4\s+my-model\s", t.medperf("container", "ls", "--mine").stdout, re.M)
    # MedPerf's other spelling of `container associate` (CLI.md): `benchmark associate -b -m`
    associated = t.medperf("benchmark", "associate", "--benchmark_uid", "1", "--model_uid", "4", "-y").stdout
    assert "test_result:" in associated and "✅ Association requested (status PENDING)" in associated, associated
    assert re.search(r"^model\s+4\s+1\s+\d+\s+PENDING", t.medperf("association", "ls", "-bm").stdout, re.M)
    assert "exactly one of" in t.fails("benchmark", "associate", "-b", "1")
    t.login("bo")
    assert "APPROVED" in t.medperf("association", "approve", "-b", "1", "-m", "4").stdout
    assert "priority 2" in t.medperf("association", "set_priority", "-b", "1", "-m", "4", "-p", "2").stdout
    row = t.get("bo", "/mlcubes/4/benchmarks/1/")
    assert (row["approval_status"], row["priority"]) == ("APPROVED", 2)
    assert row["metadata"]["test_result"]["accuracy"] >= 0


@pytest.mark.docker
def test_test_run_on_a_prepared_dataset_and_offline_with_the_server_down(model_owner: ModelOwner) -> None:
    t = model_owner
    t.medperf("tutorial", "setup", "data", "--skip-build")
    t.login("do")
    assert "✅ Dataset registered with UID 1" in t.medperf(*SUBMIT_ARGS).stdout
    refused = t.fails("test", "run", "--benchmark", "1", "--data_uid", "1")
    assert "dataset 1 is not prepared" in refused and "medperf dataset prepare --data_uid 1" in refused, refused
    t.medperf("dataset", "prepare", "--data_uid", "1", "-y")
    # the benchmark's reference model and evaluator on the prepared dataset (no preparation step runs)
    on_dataset = t.medperf("test", "run", "--benchmark", "1", "--data_uid", "1").stdout
    assert "[data preparator]" not in on_dataset and "[model 2] infer" in on_dataset, on_dataset
    ran_test(on_dataset)
    before = [e for e in t.events() if e["type"] == "test_run.finished"]
    assert [(e["payload"]["source"], e["payload"]["dataset"], e["payload"]["offline"]) for e in before] == [
        ("dataset", 1, False)]
    # MedPerf's other spelling of `dataset associate` (CLI.md): `benchmark associate -b -d`
    t.medperf("dataset", "set_operational", "--data_uid", "1", "-y")
    joined = t.medperf("benchmark", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y").stdout
    assert "✅ Association requested (status PENDING)" in joined, joined
    assert t.get("bo", "/datasets/1/benchmarks/1/")["approval_status"] == "PENDING"
    online = len([e for e in t.events() if e["type"] == "test_run.finished"])
    # the server goes down; something on its port counts connections and hangs up
    port = int(t.url.rsplit(":", 1)[1])
    t.close()
    listener = Listener(port)
    try:
        offline_runs = [
            ["--data_uid", "1", "--model", MOBILE, "--evaluator", METRICS],
            ["--data_preparator", PREP, "--model", CNN, "--evaluator", METRICS, "--data_path",
             f"{W}/sample_raw_data/images", "--labels_path", f"{W}/sample_raw_data/labels"],
        ]
        for args in offline_runs:
            out = t.medperf("test", "run", "--offline", "--no-cache", *args).stdout
            assert not ran_test(out)["from_cache"], out
        assert "--offline never asks the server" in t.fails("test", "run", "--offline", "--benchmark", "1")
        assert "--offline never asks the server" in t.fails("test", "run", "--offline", "--data_uid", "1",
                                                            "--model", "4", "--evaluator", METRICS)
        assert listener.connections == 0
        # the control: a command that does need the server reaches the listener (and fails in one line)
        t.fails("benchmark", "ls")
        assert listener.connections > 0
    finally:
        listener.close()
    after = [e["payload"] for e in t.events() if e["type"] == "test_run.finished"][online:]
    assert [(p["source"], p["offline"]) for p in after] == [("dataset", True), ("local", True)], after
