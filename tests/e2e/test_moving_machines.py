"""Moving a dataset to a new workstation with the real CLI, a real server and real Docker containers: export after
the tutorial's preparation and compatibility test, a damaged archive refused on the new machine with nothing
imported, then the real import, `benchmark run` (a model that never ran on the old machine runs here) and
`result submit` there; both machines' logs verify."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from _e2e import Tutorial

from medperf_core.testing.server import DEMO_EMAILS


def _new_machine(t: Tutorial, home: Path) -> None:
    t.medperf("profile", "set", "--server", t.url, home=home)
    t.medperf("auth", "login", "-e", DEMO_EMAILS["do"], home=home)


def _events(t: Tutorial, home: Path) -> list[dict[str, Any]]:
    out = t.medperf("events", "ls", "--json", home=home).stdout
    return json.loads(out) if out.strip() else []


@pytest.mark.docker
def test_export_then_import_run_and_submit_on_a_new_machine(tutorial_factory: Any, tmp_path: Path) -> None:
    t: Tutorial = tutorial_factory()
    t.until("approve")  # submitted, prepared, operational, associated (the reference model ran), approved
    archive = tmp_path / "moving.tar.gz"
    exported = t.medperf("dataset", "export", "--data_uid", "1", "--output", str(archive)).stdout
    assert f"✅ Dataset 1 exported to {archive}" in exported and "1 results" in exported, exported

    new = tmp_path / "new-workstation"
    _new_machine(t, new)

    # a truncated copy (a copy cut short) and a copy with one byte changed: refused naming the file, nothing kept
    data = archive.read_bytes()
    truncated, altered = tmp_path / "truncated.tar.gz", tmp_path / "altered.tar"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    raw = bytearray(gzip.decompress(data))
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tar:
        offset = tar.getmember("dataset/statistics.yaml").offset_data
    raw[offset] ^= 0x20  # one byte of the prepared statistics, as a bad disk would
    altered.write_bytes(bytes(raw))
    for damaged in (truncated, altered):
        done = t.medperf("dataset", "import", "--input", str(damaged), ok=False, home=new)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode != 0 and len(lines) == 1 and lines[0].startswith("❌ Error:"), done.stderr
        assert f"archive {damaged} is damaged at " in lines[0], lines[0]
    assert "damaged at dataset/statistics.yaml" in t.medperf(
        "dataset", "import", "--input", str(altered), ok=False, home=new).stderr
    profile_storage = next((new / "profiles").iterdir())
    assert not (profile_storage / "datasets").exists() and not (profile_storage / "executions").exists()
    assert not [p for p in profile_storage.iterdir() if p.name.startswith(".import-")]
    assert _events(t, new) == []

    imported = t.medperf("dataset", "import", "--input", str(archive), home=new).stdout
    assert "✅ Dataset 1 imported (operational, 1 results" in imported, imported
    mine = t.medperf("dataset", "ls", "--mine", home=new).stdout
    assert "operational" in mine, mine

    # model 4 never ran on the old machine: it runs here, in Docker, on the imported prepared data
    ran = t.medperf("benchmark", "run", "--benchmark", "1", "--data_uid", "1", home=new).stdout
    assert "model 4: infer" in ran and "model 2: infer" not in ran, ran  # model 2's result came with the archive
    # model 2's result came with the archive, unsent like model 4's: both are the next step
    assert ran.rstrip().endswith("✅ Done!\nNext, send the results to the benchmark (only their metrics leave this "
                                 "machine):\n  medperf result submit --result b1m2d1\n"
                                 "  medperf result submit --result b1m4d1"), ran
    sent = t.medperf("result", "submit", "--result", "b1m4d1", "-y", home=new).stdout
    assert "✅ Result b1m4d1 submitted (server UID 1)" in sent, sent
    result = t.get("do", "/results/1/")
    assert (result["benchmark"], result["model"], result["dataset"]) == (1, 4, 1) and "accuracy" in result["results"]

    events = _events(t, new)
    types = [e["type"] for e in events]
    assert types[0] == "history.imported" and "dataset.imported" in types
    assert types[-3:] == ["request.pending", "result.submitted", "request.done"], types
    for home in (t.home, new):
        assert "intact" in t.medperf("events", "verify", home=home).stdout
    assert "every projection equals the live state" in t.medperf("events", "replay", "--check-only", home=new).stdout
