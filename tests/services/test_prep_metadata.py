"""MedPerf's metadata folder: a preparation container whose prepare task declares a `metadata_path` output writes it
(per dataset, `datasets/<id>/metadata/`); sanity_check and statistics that declare it as an input read it, mounted
read-only. It is not part of the prepared data's hash (MedPerf hashes the data and labels folders only), never sent
to the server, and travels with the dataset in `dataset export`. With real containers on Docker and Apptainer."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from _owner_world import World
from test_dataset_transfer import new_home  # noqa: F401 (the fixture: the same owner on a new machine)

from medperf_core.services import compatibility, dataset_transfer, datasets
from medperf_core.services.client import Client
from medperf_core.services.hashing import folders_hash
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image
from medperf_core.testing.runner_contract import require_engine


def _dirs(**mounts: str) -> dict[str, dict[str, str]]:
    return {name: {"mount_path": path, "type": "directory"} for name, path in mounts.items()}


_READY = _dirs(data_path="/in/data", labels_path="/in/labels", metadata_path="/in/meta")

PREP_WITH_METADATA: dict[str, Any] = {
    "container_type": "DockerImage",
    "image": TEST_IMAGE,
    "tasks": {
        "prepare": {
            "run_args": {"command": ["sh", "-c", "cp -r /raw/data/. /out/data/ && cp -r /raw/labels/. /out/labels/ "
                                                 "&& ls /raw/data | wc -l > /out/meta/cases.txt "
                                                 "&& echo prepared > /out/data/prepared.txt"]},
            "input_volumes": _dirs(data_path="/raw/data", labels_path="/raw/labels"),
            "output_volumes": _dirs(output_path="/out/data", output_labels_path="/out/labels",
                                    metadata_path="/out/meta"),
        },
        "sanity_check": {  # reads the metadata, and cannot change it
            "run_args": {"command": ["sh", "-c", "test -s /in/meta/cases.txt && ! touch /in/meta/x 2>/dev/null"]},
            "input_volumes": _READY,
        },
        "statistics": {
            "run_args": {"command": ["sh", "-c", 'echo "n_cases: $(cat /in/meta/cases.txt)" > /out/s/statistics.yaml']},
            "input_volumes": _READY,
            "output_volumes": {"output_path": {"mount_path": "/out/s/statistics.yaml", "type": "file"}},
        },
    },
}


def _prep(world: World, config: dict[str, Any]) -> int:
    return int(world.backends["bo"].create_container({
        "name": "prep-with-metadata", "container_config": config, "parameters_config": {},
        "image_hash": ensure_test_image(), "state": "OPERATION"})["id"])


def _submitted(world: World, prep: int) -> int:
    plan = datasets.plan_submission(world.client, name="with-meta", description="", location="",
                                    data_path=world.data, labels_path=world.labels, benchmark=None, data_prep=prep)
    return int(datasets.submit(world.client, plan)["id"])


ENGINES = [pytest.param("docker", marks=pytest.mark.docker),
           pytest.param("singularity", marks=pytest.mark.singularity)]


@pytest.mark.parametrize("platform", ENGINES)
def test_prepare_writes_the_metadata_folder_and_later_steps_read_it(
    world: World, platform: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world.client.runner = require_engine(world.client.host.runners.get(platform)())
    dataset = _submitted(world, _prep(world, PREP_WITH_METADATA))
    result = datasets.prepare(world.client, dataset, say=lambda _: None)

    folder = datasets.dataset_folder(world.client, dataset)
    cases = len(list(world.data.iterdir()))
    assert (folder / "metadata" / "cases.txt").read_text().strip() == str(cases)
    assert sorted(p.name for p in (folder / "metadata").iterdir()) == ["cases.txt"]  # sanity_check wrote nothing
    assert result["statistics"] == {"n_cases": cases}  # statistics read what prepare wrote
    # the prepared data's hash is MedPerf's: data and labels only
    assert result["generated_uid"] == folders_hash([folder / "data", folder / "labels"])
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial") or p.name.startswith(".")]

    body = datasets.plan_operational(world.client, dataset)
    datasets.set_operational(world.client, dataset, body)
    sent = json.dumps(world.client.backend.get_dataset(dataset))
    assert "cases.txt" not in sent and "metadata_path" not in sent and str(folder) not in sent

    archive = tmp_path / "moving.tar.gz"
    manifest = dataset_transfer.export(world.client, dataset, archive)
    assert "dataset/metadata/cases.txt" in manifest["files"]
    with tarfile.open(archive) as tar:
        member = tar.extractfile("dataset/metadata/cases.txt")
        assert member is not None and member.read().decode().strip() == str(cases)
    new_machine: Callable[[], Client] = request.getfixturevalue("new_home")
    moved = new_machine()
    assert dataset_transfer.import_archive(moved, archive)["state"] == "operational"
    arrived = datasets.dataset_folder(moved, dataset) / "metadata" / "cases.txt"
    assert arrived.read_text().strip() == str(cases)


@pytest.mark.docker
def test_preparing_again_starts_from_an_empty_metadata_folder(world: World) -> None:
    world.client.runner = require_engine(world.client.host.runners.get("docker")())
    dataset = _submitted(world, _prep(world, PREP_WITH_METADATA))
    datasets.prepare(world.client, dataset, say=lambda _: None)
    metadata = datasets.dataset_folder(world.client, dataset) / "metadata"
    (metadata / "stale.txt").write_text("from an earlier run\n")
    datasets.prepare(world.client, dataset, force=True, say=lambda _: None)
    assert sorted(p.name for p in metadata.iterdir()) == ["cases.txt"]


@pytest.mark.docker
def test_a_later_step_reading_metadata_gets_an_empty_folder_when_prepare_declares_none(world: World) -> None:
    config = json.loads(json.dumps(PREP_WITH_METADATA))
    del config["tasks"]["prepare"]["output_volumes"]["metadata_path"]
    config["tasks"]["prepare"]["run_args"]["command"][2] = ("cp -r /raw/data/. /out/data/ "
                                                            "&& cp -r /raw/labels/. /out/labels/")
    config["tasks"]["sanity_check"]["run_args"]["command"][2] = "test -d /in/meta && ! touch /in/meta/x 2>/dev/null"
    config["tasks"]["statistics"]["run_args"]["command"][2] = "echo 'n_cases: 0' > /out/s/statistics.yaml"
    world.client.runner = require_engine(world.client.host.runners.get("docker")())
    dataset = _submitted(world, _prep(world, config))
    assert datasets.prepare(world.client, dataset, say=lambda _: None)["statistics"] == {"n_cases": 0}
    metadata = datasets.dataset_folder(world.client, dataset) / "metadata"
    assert metadata.is_dir() and not any(metadata.iterdir())


def _local(folder: Path, config: dict[str, Any]) -> str:
    folder.mkdir(parents=True)
    (folder / "container_config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(folder)


@pytest.mark.docker
def test_the_compatibility_test_prepares_with_the_metadata_folder(world: World, tmp_path: Path) -> None:
    world.client.runner = require_engine(world.client.host.runners.get("docker")())
    ensure_test_image()
    model = _local(tmp_path / "model", {"image": TEST_IMAGE, "tasks": {"infer": {
        "run_args": {"command": ["sh", "-c", "ls /in/data | wc -l > /out/p/n.txt"]},
        "input_volumes": _dirs(data_path="/in/data"), "output_volumes": _dirs(output_path="/out/p")}}})
    evaluator = _local(tmp_path / "evaluator", {"image": TEST_IMAGE, "tasks": {"evaluate": {
        "run_args": {"command": ["sh", "-c", 'echo "files: $(cat /in/p/n.txt)" > /out/r/results.yaml']},
        "input_volumes": _dirs(predictions="/in/p", labels="/in/labels"),
        "output_volumes": {"output_path": {"mount_path": "/out/r/results.yaml", "type": "file"}}}}})
    prep = _local(tmp_path / "prep", PREP_WITH_METADATA)
    plan = compatibility.plan_test_run(world.client, data_path=world.data, labels_path=world.labels,
                                       data_preparator=prep, model=model, evaluator=evaluator, offline=True)
    outcome = compatibility.run(world.client, plan, offline=True, say=lambda _: None)
    cases = len(list(world.data.iterdir()))
    assert outcome.metrics == {"files": cases + 1}  # the data plus the preparation's own file
    prepared = outcome.folder / "prepared"
    assert (prepared / "metadata" / "cases.txt").read_text().strip() == str(cases)
    assert yaml.safe_load((prepared / "statistics.yaml").read_text()) == {"n_cases": cases}
    assert outcome.prepared_uid == folders_hash([prepared / "data", prepared / "labels"])
