"""A data owner's world without containers: the `local` backend (server services in-process on a SQLite file),
the example plugin's fake runner with scripted tasks, and a benchmark seeded through the backend as its owners."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from medperf_example_plugin.runner import ExampleRunner

from medperf_core.backends import get_backend
from medperf_core.backends.base import ServerBackend
from medperf_core.backends.local import LOCAL_TOKEN
from medperf_core.containers.config import parse_container_config
from medperf_core.domain.events import DomainEvent
from medperf_core.profiles import Profile, ProfileStore
from medperf_core.services.client import Client
from medperf_core.testing.server import DEMO_EMAILS

CASES = {"case1.txt": "0.2", "case2.txt": "0.9", "case3.txt": "0.4"}
LABELS = "case1.txt,0\ncase2.txt,1\ncase3.txt,0\n"

_PARAMETERS = {"parameters_file": {"mount_path": "/parameters.yaml", "type": "file"}}


def _config(image: str, tasks: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, Any]:
    """A container config in MedPerf's format: task -> (input volumes, output volumes by type)."""
    return {
        "container_type": "DockerImage",
        "image": image,
        "tasks": {
            task: {
                "run_args": {"command": f"run {task}"},
                "input_volumes": {
                    **{name: {"mount_path": f"/in/{name}", "type": "directory"} for name in inputs},
                    **_PARAMETERS,
                },
                **(
                    {"output_volumes": {n: {"mount_path": f"/out/{n}", "type": t} for n, t in outputs.items()}}
                    if outputs
                    else {}
                ),
            }
            for task, (inputs, outputs) in tasks.items()
        },
    }


PREP = _config(
    "fake/prep:1",
    {
        "prepare": (
            ["data_path", "labels_path"],
            {"output_path": "directory", "output_labels_path": "directory"},
        ),
        "sanity_check": (["data_path", "labels_path"], {}),
        "statistics": (["data_path", "labels_path"], {"output_path": "file"}),
    },
)
METRICS = _config("fake/metrics:1", {"evaluate": (["predictions", "labels"], {"output_path": "file"})})


def model_config(image: str) -> dict[str, Any]:
    return _config(image, {"infer": (["data_path"], {"output_path": "directory"})})


@attrs.define
class World:
    """The data owner's client and what the tests need to look at from outside it."""

    client: Client
    runner: ScriptedRunner
    backends: dict[str, ServerBackend]  # the other roles, through the same local server
    benchmark: int
    prep: int
    reference: int
    model: int
    data: Path
    labels: Path

    def events(self, stream: str) -> list[str]:
        """The event types of one stream of the client's log, in order."""
        events, _ = self.client.store.load(stream)
        return [e.type for e in events]

    def last(self, stream: str) -> DomainEvent:
        events, _ = self.client.store.load(stream)
        return events[-1]

    def all_types(self) -> list[str]:
        return [stored.type for stored in self.client.store.read_all()]

    def register_model(self, image: str, parameters: dict[str, Any], *, approve: bool = True) -> int:
        """A model owner registers a model and (by default) the benchmark owner approves it in the benchmark."""
        mo, bo = self.backends["mo"], self.backends["bo"]
        config = model_config(image)
        model = mo.create_container(_container_body(image, config, parameters))["id"]
        mo.request_model_association({"model_mlcube": model, "benchmark": self.benchmark, "metadata": {}})
        if approve:
            bo.decide_model_association(model, self.benchmark, {"approval_status": "APPROVED"})
        return int(model)


class ScriptedRunner(ExampleRunner):
    """The example runner with tasks that behave like the tutorial's containers; records every task it runs.

    `failing` names tasks that raise (a broken container); a model fails when its parameters say `fail: <reason>`.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failing: set[str] = set()
        super().__init__(
            {
                "prepare": self._prepare,
                "sanity_check": self._sanity_check,
                "statistics": self._statistics,
                "infer": self._infer,
                "evaluate": self._evaluate,
            }
        )

    def _called(self, task: str) -> None:
        self.calls.append(task)
        if task in self.failing:
            raise RuntimeError(f"{task} refused the data")

    def _prepare(self, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        self._called("prepare")
        outputs["output_path"].mkdir(parents=True)
        outputs["output_labels_path"].mkdir(parents=True)
        for case in inputs["data_path"].iterdir():
            (outputs["output_path"] / case.name).write_text(case.read_text().strip() + "\n")
        (outputs["output_labels_path"] / "labels.csv").write_text((inputs["labels_path"] / "labels.csv").read_text())

    def _sanity_check(self, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        self._called("sanity_check")
        labelled = (inputs["labels_path"] / "labels.csv").read_text().splitlines()
        assert len(labelled) == len(list(inputs["data_path"].iterdir()))

    def _statistics(self, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        self._called("statistics")
        outputs["output_path"].write_text(yaml.safe_dump({"n_cases": len(list(inputs["data_path"].iterdir()))}))

    def _infer(self, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        parameters = yaml.safe_load(inputs["parameters_file"].read_text())
        self._called(f"infer {parameters['name']}")
        if "fail" in parameters:
            raise RuntimeError(parameters["fail"])
        outputs["output_path"].mkdir(parents=True)
        predictions = {
            case.name: int(float(case.read_text()) > parameters["threshold"]) for case in inputs["data_path"].iterdir()
        }
        (outputs["output_path"] / "predictions.yaml").write_text(yaml.safe_dump(predictions))

    def _evaluate(self, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
        self._called("evaluate")
        predictions = yaml.safe_load((inputs["predictions"] / "predictions.yaml").read_text())
        truth = dict(line.split(",") for line in (inputs["labels"] / "labels.csv").read_text().splitlines())
        correct = sum(predictions[case] == int(label) for case, label in truth.items())
        outputs["output_path"].write_text(yaml.safe_dump({"accuracy": round(correct / len(truth), 4)}))


def _container_body(name: str, config: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "container_config": config,
        "parameters_config": parameters,
        # The digest the fake runner reports for this image: a run checks it like a real engine's.
        "image_hash": ExampleRunner().image_hash(parse_container_config(config)),
        "state": "OPERATION",
    }


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    server_dir = tmp_path / "server"

    def backend(role: str) -> ServerBackend:
        profile = Profile(
            name=role, backend="local", local_db=str(server_dir), email=DEMO_EMAILS[role], token=LOCAL_TOKEN
        )
        return get_backend(profile)

    backends = {role: backend(role) for role in ("admin", "bo", "mo")}
    bo = backends["bo"]
    prep, reference, metrics = (
        bo.create_container(_container_body(name, config, {"name": name, "threshold": 0.5}))["id"]
        for name, config in (("prep", PREP), ("reference", model_config("fake/reference:1")), ("metrics", METRICS))
    )
    benchmark = bo.create_benchmark(
        {
            "name": "fake",
            "data_preparation_mlcube": prep,
            "reference_model_mlcube": reference,
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
            "data_evaluator_mlcube": metrics,
            "state": "OPERATION",
        }
    )["id"]
    backends["admin"].update_benchmark(benchmark, {"approval_status": "APPROVED"})

    # The data owner's profile is the active one: the client's log lives in the active profile's storage.
    profiles = ProfileStore()
    profiles.save(
        Profile(name="site", backend="local", local_db=str(server_dir), email=DEMO_EMAILS["do"], token=LOCAL_TOKEN)
    )
    profiles.activate("site")
    client = Client(profiles.active())
    runner = ScriptedRunner()
    client.runner = runner  # the fake runner in place of the profile's container engine

    data, labels = tmp_path / "raw" / "data", tmp_path / "raw" / "labels"
    data.mkdir(parents=True)
    labels.mkdir()
    for name, value in CASES.items():
        (data / name).write_text(value)
    (labels / "labels.csv").write_text(LABELS)

    world = World(
        client=client,
        runner=runner,
        backends=backends,
        benchmark=int(benchmark),
        prep=int(prep),
        reference=int(reference),
        model=0,
        data=data,
        labels=labels,
    )
    world.model = world.register_model("fake/model:1", {"name": "model", "threshold": 0.3})
    try:
        yield world
    finally:
        client.close()
        for b in backends.values():
            close = getattr(b, "close", None)
            if close is not None:
                close()
