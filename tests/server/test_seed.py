"""`medperf server seed` and `reset`: the tutorial's starting entities, refusal on a non-empty server."""

from __future__ import annotations

from pathlib import Path

import pytest
from _server_helpers import run_medperf

from medperf_core.domain.resources import BENCHMARK, CONTAINER, MODEL_ASSOCIATION
from medperf_core.server.services import ServerServices
from medperf_core.services.hashing import file_hash


@pytest.mark.parametrize(
    ("demo", "containers", "benchmarks", "models"),
    [("data", 4, 1, {4}), ("model", 3, 1, set()), ("benchmark", 0, 0, set())],
)
def test_seed(tmp_path: Path, demo: str, containers: int, benchmarks: int, models: set[int]) -> None:
    data = tmp_path / "server"
    done = run_medperf(
        "server", "seed", "--demo", demo, "--data-dir", str(data), "--no-build", "--public-url",
        "https://medperf.test", home=str(tmp_path / "home"),
    )
    assert done.returncode == 0, done.stderr
    services = ServerServices.open(data)
    try:
        rows = services.reads.list(CONTAINER, None, 0).results
        assert [r["id"] for r in rows] == list(range(1, containers + 1))
        if containers:
            assert rows[0]["name"].endswith("prep") and rows[2]["name"].endswith("metrics")
        found = services.reads.list(BENCHMARK, None, 0).results
        assert len(found) == benchmarks
        if benchmarks:
            assert (found[0]["id"], found[0]["state"], found[0]["reference_model_mlcube"]) == (
                1,
                "OPERATION",
                2,
            )
            approved = [
                r for r in services.reads.list(MODEL_ASSOCIATION, None, 0).results
                if r["approval_status"] == "APPROVED"
            ]
            assert {r["model_mlcube"] for r in approved} == models
        for row in [*rows, *found]:
            assert len(row["name"]) <= 20 and len(row.get("description", "")) <= 20, row
        if benchmarks:
            assert found[0]["demo_dataset_tarball_url"] == (
                f"https://medperf.test/api/v0/files/{found[0]['demo_dataset_tarball_hash']}"
            )
        for row in rows:  # every published file is in the server's store under its hash
            assert len(row["image_hash"]) in (0, 64) and not row["image_hash"].startswith("sha256:")
            for url, digest in (("git_mlcube_url", "mlcube_hash"), ("git_parameters_url", "parameters_hash"),
                                ("additional_files_tarball_url", "additional_files_tarball_hash")):
                if row[url]:
                    assert row[url] == f"https://medperf.test/api/v0/files/{row[digest]}"
                    assert file_hash(data / "files" / row[digest]) == row[digest]
        assert any(r["additional_files_tarball_url"] for r in rows) == (demo != "benchmark")
        if demo == "model":  # the benchmark-owner tutorial's result: its demo dataset and the CNN's weights
            assert found[0]["demo_dataset_tarball_url"].startswith("https://medperf.test/api/v0/files/")
            assert rows[1]["additional_files_tarball_hash"] and found[0]["approval_status"] == "APPROVED"
        users = {e.payload["email"] for e in services.store.read_all() if e.type == "user.registered"}
        assert users == {f"test{r}@example.com" for r in ("admin", "bo", "mo", "do")}
    finally:
        services.close()
    again = run_medperf(
        "server", "seed", "--demo", demo, "--data-dir", str(data), "--no-build", home=str(tmp_path / "home")
    )
    assert again.returncode != 0 and "not empty" in again.stderr
    reset = run_medperf("server", "reset", "--data-dir", str(data), "-y", home=str(tmp_path / "home"))
    assert reset.returncode == 0 and not (data / "events.db").exists()
    assert (
        run_medperf(
            "server",
            "seed",
            "--demo",
            demo,
            "--data-dir",
            str(data),
            "--no-build",
            home=str(tmp_path / "home"),
        ).returncode
        == 0
    )


def test_unknown_demo(tmp_path: Path) -> None:
    done = run_medperf("server", "seed", "--demo", "nope", "--data-dir", str(tmp_path), home=str(tmp_path))
    assert done.returncode == 2 and "unknown demo" in done.stderr
