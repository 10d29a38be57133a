"""Errors that used to mislead, each as one line that names the problem and the fix: who may decide an association
(not "dataset N not found"), an unreachable Docker engine in words (no Python exception tuples) with what to install
by name (not a script only a source checkout has), a YAML mistake with its line and column."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from _server_helpers import Client, associate_dataset, make_benchmark, make_dataset

from medperf_core.testing.server import medperf_command

Medperf = Callable[..., tuple[int, str, str]]  # the `medperf` fixture (tests/cli/conftest.py)


def test_a_model_owner_deciding_a_dataset_association_is_told_who_may(
    clients: dict[str, Client], medperf: Medperf
) -> None:
    admin, bo, do = (clients[r] for r in ("admin", "bo", "do"))
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=admin)
    b = benchmark["id"]
    d = make_dataset(do, benchmark["data_preparation_mlcube"])["id"]
    associate_dataset(do, bo, d, b, status=None)
    for role in ("mo", "do"):  # the dataset's owner neither: the benchmark's owner decides who joins
        code, out, err = medperf(role, "association", "approve", "-b", str(b), "-d", str(d))
        assert (code, out) == (3, ""), err
        assert err.startswith("❌ Error: ") and err.count("\n") == 1, err
        assert (f"only the owner of benchmark {b} or an admin can decide its dataset associations (ask the "
                "benchmark's owner)") in err and "not found" not in err, err
    assert clients["bo"].ok("GET", f"/datasets/{d}/benchmarks/{b}/")["approval_status"] == "PENDING"


def medperf_in(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*medperf_command(), *args], cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MEDPERF_HOME": str(folder / "home"), **env}, stdin=subprocess.DEVNULL)


def test_an_unreachable_docker_engine_is_said_in_words_with_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text('container_type: DockerImage\nimage: alpine:3\ntasks:\n  infer:\n'
                                          '    run_args: {command: "true"}\n')
    socket = tmp_path / "no-docker.sock"
    done = medperf_in(tmp_path, "container", "run_test", "-m", "config.yaml", "-t", "infer",
                      DOCKER_HOST=f"unix://{socket}")
    assert done.returncode == 6, done.stderr
    assert done.stderr == (
        f"❌ Error: cannot reach the Docker engine at unix://{socket} (No such file or directory) (install Docker "
        "Engine (https://docs.docker.com/engine/install/) and start it; in a source checkout, sudo "
        "scripts/install-engines.sh installs it)\n"
    )


def test_a_yaml_mistake_is_named_with_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("container_type: DockerImage\nimage: alpine:3\ntasks:\n  infer: x: y\n")
    done = medperf_in(tmp_path, "container", "run_test", "-m", "config.yaml", "-t", "infer")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "❌ Error: container config (in config.yaml) is not valid YAML: line 4, column 11: mapping values are not "
        "allowed here (fix the YAML syntax (indentation, colons, quotes))\n"
    )
