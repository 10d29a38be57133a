"""`medperf storage ls|cleanup` on a home with what a killed preparation and a lost log leave behind."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest
from _owner_world import World
from medperf_docker.images import DockerImages
from medperf_docker.runner import DockerRunner
from test_data_owner import associated, run

from medperf_core.cli.main import run as medperf
from medperf_core.config import medperf_home
from medperf_core.containers import owned_images
from medperf_core.containers.config import parse_container_config
from medperf_core.containers.docker_cli import image_id
from medperf_core.services import datasets, storage
from medperf_core.testing.images import ensure_test_image
from medperf_core.testing.registry import present_locally, push_unique_image, require_registry
from medperf_core.testing.runner_contract import require_engine


def _killed_prepare(world: World, dataset: int) -> None:
    """A preparation killed mid-write (Ctrl-C twice, a lost terminal): its outputs stay as `*.partial`."""
    def half_then_killed(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        outputs["output_path"].mkdir(parents=True)
        (outputs["output_path"] / "case1.txt").write_text("0.2\n" * 1000)
        raise KeyboardInterrupt

    original = world.runner.tasks["prepare"]
    world.runner.tasks["prepare"] = half_then_killed
    with pytest.raises(KeyboardInterrupt):
        datasets.prepare(world.client, dataset, say=lambda _: None)
    world.runner.tasks["prepare"] = original


def _second_dataset(world: World) -> int:
    data, labels = world.data.parent.parent / "raw2" / "data", world.data.parent.parent / "raw2" / "labels"
    data.mkdir(parents=True)
    labels.mkdir()
    for name in ("case1.txt", "case2.txt"):
        (data / name).write_text("0.7")
    (labels / "labels.csv").write_text("case1.txt,1\ncase2.txt,1\n")
    plan = datasets.plan_submission(world.client, name="second", description="", location="", data_path=data,
                                    labels_path=labels, benchmark=world.benchmark, data_prep=None)
    return int(datasets.submit(world.client, plan)["id"])


def _by(entries: list[storage.Entry]) -> dict[tuple[str, str], storage.Entry]:
    return {(e.kind, e.name): e for e in entries}


def test_ls_and_cleanup_remove_only_leftovers(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = associated(world)
    run(world, dataset)
    half = _second_dataset(world)
    _killed_prepare(world, half)
    home = medperf_home()
    site = world.client.storage
    (site / "datasets" / "77").mkdir(parents=True)  # a folder no event knows (its history was lost)
    (site / "datasets" / "77" / "data.bin").write_bytes(b"x" * 5000)
    (site / "executions" / "b9m9d77").mkdir(parents=True)
    sif = home / "sif"
    sif.mkdir()
    (sif / ("ab" * 32 + ".sif")).write_bytes(b"s" * 3000)
    (sif / f".{'cd' * 32}.4242.0123abcd.sif").write_bytes(b"t" * 100)  # a SIF build that was killed
    prepared_file = next((site / "datasets" / str(dataset) / "data").iterdir())
    (site / "datasets" / str(dataset) / "data" / "scan.tmp").write_text("the container's own file")

    entries = storage.scan()
    found = _by(entries)
    assert found[("dataset", str(dataset))].status == "kept"
    assert found[("dataset", str(half))].status == "kept"
    assert found[("dataset", "77")].status == "orphaned" and found[("dataset", "77")].size == 5000
    assert found[("result", "b9m9d77")].status == "orphaned"
    assert found[("result", f"b{world.benchmark}m{world.model}d{dataset}")].status == "kept"
    assert found[("temporary", f"datasets/{half}/data.partial")].size == 4000
    assert found[("sif", "ab" * 32 + ".sif")].status == "kept"  # without the server, every SIF is kept
    assert any(e.kind == "temporary" and e.path.parent == sif for e in entries)
    assert found[("event log", "events.db")].size > 0
    # the prepared data is the container's: a `.tmp` name inside it is never a leftover
    assert not any(e.path.name == "scan.tmp" for e in entries)

    capsys.readouterr()
    assert medperf(["storage", "ls", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {(r["kind"], r["name"], r["status"]) for r in listed} >= {("dataset", "77", "orphaned")}
    assert medperf(["storage", "ls"]) == 0
    text = capsys.readouterr().out
    assert "orphaned" in text and "would free" in text

    # cleanup asks; "n" changes nothing
    with pytest.MonkeyPatch.context() as m:
        m.setattr("sys.stdin", _Answer("n\n"))
        assert medperf(["storage", "cleanup"]) != 0
    assert (site / "datasets" / "77").exists()

    assert medperf(["storage", "cleanup", "-y"]) == 0
    out = capsys.readouterr().out
    assert "Freed" in out
    assert not (site / "datasets" / "77").exists()
    assert not (site / "executions" / "b9m9d77").exists()
    assert not (site / "datasets" / str(half) / "data.partial").exists()
    assert not any(p.name.startswith(".") for p in sif.iterdir())
    assert (sif / ("ab" * 32 + ".sif")).exists()  # --sif not given
    assert prepared_file.exists() and (site / "datasets" / str(dataset) / "data" / "scan.tmp").exists()
    assert world.client.local.execution(f"b{world.benchmark}m{world.model}d{dataset}") is not None
    assert [e for e in storage.removable(storage.scan())] == []

    # the killed preparation resumes from scratch and succeeds
    datasets.prepare(world.client, half, say=lambda _: None)
    assert world.client.local.dataset(half)["state"] == "prepared"


def test_cleanup_with_sif_removes_images_no_container_uses(world: World) -> None:
    sif = medperf_home() / "sif"
    sif.mkdir()
    used = world.backends["bo"].list_containers()[0]["image_hash"].split(":")[-1]
    (sif / f"{used}.sif").write_bytes(b"u")
    (sif / ("ef" * 32 + ".sif")).write_bytes(b"v")
    assert medperf(["storage", "cleanup", "--sif", "-y"]) == 0
    assert (sif / f"{used}.sif").exists()
    assert not (sif / ("ef" * 32 + ".sif")).exists()


class _Answer:
    def __init__(self, text: str) -> None:
        self.text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self.text


def _build_image(name: str, label: str | None) -> str:
    """A uniquely named test image of this test's own (a label line makes its id unique too)."""
    lines = [f"FROM {ensure_test_image()}", f"LABEL org.medperf.test-unique={name}"]
    if label:
        key, _, value = label.partition("=")
        lines.append(f"LABEL {key}={json.dumps(value)}")
    done = subprocess.run(["docker", "build", "-q", "--network", "none", "-t", name, "-"], input="\n".join(lines),
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return image_id(name) or ""


@pytest.mark.docker
def test_cleanup_with_images_removes_only_this_homes_images_no_container_uses(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    require_engine(DockerRunner())
    unique = uuid.uuid4().hex[:10]
    names = {kind: f"medperf-testing/cleanup-{kind}-{unique}:1" for kind in ("unused", "used", "other", "plain")}
    try:
        ids = {"unused": _build_image(names["unused"], owned_images.home_label()),
               "used": _build_image(names["used"], owned_images.home_label()),
               "other": _build_image(names["other"], f"{owned_images.HOME_LABEL}=/another/home"),
               "plain": _build_image(names["plain"], None)}
        config = {"container_type": "DockerImage", "image": names["used"], "tasks": {"infer": {"run_args": {}}}}
        world.backends["mo"].create_container({"name": f"uses-{unique}", "container_config": config,
                                               "parameters_config": {}, "image_hash": ids["used"],
                                               "state": "OPERATION"})

        capsys.readouterr()
        assert medperf(["storage", "ls", "--json"]) == 0
        images = {r["name"]: r for r in json.loads(capsys.readouterr().out) if r["kind"] == "image"}
        assert set(images) == {names["unused"], names["used"]}  # never another home's, never an unlabelled one
        assert images[names["unused"]]["path"] == ids["unused"] and images[names["unused"]]["size"] > 0

        assert medperf(["storage", "cleanup", "-y"]) == 0  # without --images, no image goes
        with pytest.MonkeyPatch.context() as m:
            m.setattr("sys.stdin", _Answer("n\n"))
            assert medperf(["storage", "cleanup", "--images"]) != 0
        out = capsys.readouterr().out
        assert names["unused"] in out and names["used"] not in out and names["other"] not in out
        assert all(image_id(n) for n in names.values())

        assert medperf(["storage", "cleanup", "--images", "-y"]) == 0
        assert f"removed image {names['unused']}" in capsys.readouterr().out
        assert image_id(names["unused"]) is None
        assert {k: image_id(names[k]) for k in ("used", "other", "plain")} == {k: ids[k] for k in ("used", "other",
                                                                                                    "plain")}
    finally:
        for name in names.values():  # only this test's own images
            subprocess.run(["docker", "image", "rm", name], capture_output=True, check=False)


@pytest.mark.docker
def test_cleanup_with_images_removes_what_the_runner_pulled_by_its_reference_only(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    runner = require_engine(DockerRunner())
    require_registry()
    pushed, twice = push_unique_image(), push_unique_image()
    someone_elses = f"medperf-testing/cleanup-kept-{uuid.uuid4().hex[:10]}:1"
    try:
        for image in (pushed, twice):  # the runner pulls what it lacks, and records it
            config = {"container_type": "DockerImage", "image": image.reference, "tasks": {"t": {"run_args": {}}}}
            assert runner.image_hash(parse_container_config(config)) == image.image_id
        subprocess.run(["docker", "tag", twice.image_id, someone_elses], check=True)  # another name for it
        capsys.readouterr()
        assert medperf(["storage", "ls", "--json"]) == 0
        listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
        assert listed[pushed.reference]["kind"] == "image" and listed[pushed.reference]["path"] == pushed.image_id
        assert "pulled by medperf" in listed[pushed.reference]["note"]
        assert someone_elses not in listed and listed["pulled-images.jsonl"]["kind"] == "image record"

        assert medperf(["storage", "cleanup", "--images", "-y"]) == 0
        out = capsys.readouterr().out
        assert f"removed image {pushed.reference}" in out and f"removed image {twice.reference}" in out
        assert not present_locally(pushed.image_id)
        assert not present_locally(twice.reference) and image_id(someone_elses) == twice.image_id  # still there
    finally:
        pushed.remove()
        twice.remove()
        subprocess.run(["docker", "image", "rm", someone_elses], capture_output=True, check=False)


def test_without_a_docker_engine_storage_ls_lists_no_images(world: World, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "docker"  # a docker CLI whose engine is down
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    owned_images.record_pulled("localhost:5000/x@sha256:" + "1" * 64, "sha256:" + "2" * 64)
    assert DockerImages().owned_images() == []
    assert medperf(["storage", "ls"]) == 0
    assert medperf(["storage", "cleanup", "--images", "-y"]) == 0
