"""The compatibility test: prepare data, infer with a model, evaluate, all locally; results never leave the machine.

`medperf test run` runs it three ways (a registered benchmark's demo data, local configs only, a prepared dataset);
`benchmark submit` and `container associate` run it before they send anything. Each finished test is one
`test_run.finished` event in the client's log; its outputs stay under `STORAGE/tests/UID/`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any

import attrs
import yaml

from medperf_core.domain import streams
from medperf_core.domain.datasets import DatasetState
from medperf_core.domain.events import CompatibilityTestFinished
from medperf_core.errors import ConfigError, MedperfError, UserError
from medperf_core.services.artifacts import Artifact, resolve
from medperf_core.services.client import Client
from medperf_core.services.containers import LocalContainer, local_container, materialize
from medperf_core.services.datasets import (
    METADATA_VOLUME,
    Say,
    dataset_folder,
    declares_metadata,
    local_dataset,
    metadata_inputs,
)
from medperf_core.services.hashing import folders_hash
from medperf_core.services.tasks import run_task


@attrs.frozen
class Component:
    label: str  # a registered UID or a local config path
    container: LocalContainer
    registered: dict[str, Any] | None = None  # the server's row of a registered container

    def identity(self) -> str:
        c = self.container
        return json.dumps([self.label, c.image_hash, c.config.image, str(c.parameters_file or ""),
                           str(c.additional_files or "")])


@attrs.frozen
class Plan:
    """What one test runs: on raw data (with a preparator) or on already prepared data (without)."""

    source: str  # "benchmark", "local" or "dataset"
    model: Component
    evaluator: Component
    prep: Component | None = None
    data_path: Path | None = None
    labels_path: Path | None = None
    prepared: Path | None = None  # a folder with data/ and labels/
    benchmark: int | None = None
    dataset: int | None = None
    data_id: str = ""  # identifies the data: the demo tarball's hash, a dataset's generated UID, or the paths

    @property
    def uid(self) -> str:
        parts = [self.source, self.data_id, self.model.identity(), self.evaluator.identity(),
                 self.prep.identity() if self.prep else ""]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@attrs.frozen
class Outcome:
    uid: str
    metrics: dict[str, Any]
    from_cache: bool
    folder: Path
    prepared_uid: str = ""


def component(client: Client, spec: str | int, *, offline: bool) -> Component:
    """A registered container (an integer UID, fetched from the server) or local files (a config path)."""
    text = str(spec)
    if text.isdigit():
        if offline:
            raise UserError(f"container {text} is a registered UID and --offline never asks the server",
                            "give the container's local config path instead, or drop --offline")
        row = client.backend.get_container(int(text))
        return Component(text, materialize(row, client.storage / "containers",
                                           verify=client.profile.certificate or True), row)
    return Component(text, local_container(Path(text).expanduser()))


def demo_data(client: Client, url: str, expected_hash: str | None) -> tuple[Path, Path, Artifact]:
    """The demo dataset tarball (local or http(s)), checked and unpacked once: its data and labels folders, as
    its `paths.yaml` names them (relative to the file), and the tarball's sha256."""
    if not url:
        raise UserError("this benchmark has no demo dataset", "give the data: --data_path and --labels_path")
    cache = client.storage / "demo"
    tarball = resolve(url, "demo dataset", cache, expected_hash)
    folder = cache / tarball.sha256
    if not (folder / ".unpacked").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            with tarfile.open(tarball.path) as tar:
                tar.extractall(folder, filter="data")
        except (tarfile.TarError, OSError) as e:
            raise UserError(f"the demo dataset {url} is not a readable tarball ({e})",
                            "make it with: tar czf demo.tar.gz data/ labels/ paths.yaml") from e
        (folder / ".unpacked").touch()
    found = sorted(folder.glob("paths.yaml")) or sorted(folder.glob("*/paths.yaml"))
    if not found:
        raise UserError(f"the demo dataset {url} has no paths.yaml", "add paths.yaml with data_path and labels_path")
    paths = yaml.safe_load(found[0].read_text(encoding="utf-8")) or {}
    if not isinstance(paths, dict) or not paths.get("data_path") or not paths.get("labels_path"):
        raise UserError(f"paths.yaml of the demo dataset {url} must name data_path and labels_path",
                        "e.g. data_path: demo_data/images, labels_path: demo_data/labels")
    base = found[0].parent
    data, labels = base / str(paths["data_path"]), base / str(paths["labels_path"])
    for path in (data, labels):
        if not path.resolve().is_relative_to(folder.resolve()) or not path.is_dir():
            raise UserError(f"paths.yaml of the demo dataset {url} names {path.relative_to(base)}, not a folder "
                            "in the tarball", "fix paths.yaml")
    return data, labels, tarball


def prepared_dataset(client: Client, dataset_id: int) -> tuple[Path, str]:
    row = local_dataset(client, dataset_id)
    if row["state"] not in (DatasetState.PREPARED, DatasetState.OPERATIONAL):
        raise UserError(f"dataset {dataset_id} is not prepared",
                        f"run: medperf dataset prepare --data_uid {dataset_id}")
    return dataset_folder(client, dataset_id), str(row["generated_uid"])


def plan_test_run(
    client: Client, *, benchmark: int | None = None, data_uid: int | None = None, data_path: Path | None = None,
    labels_path: Path | None = None, data_preparator: str | None = None, model: str | None = None,
    evaluator: str | None = None, offline: bool = False,
) -> Plan:
    """`medperf test run`'s three ways: a benchmark's demo data, a prepared dataset, or local configs and data."""
    if offline and benchmark is not None:
        raise UserError("--offline never asks the server, so it cannot test against a registered benchmark",
                        "give local configs (--data_preparator, --model, --evaluator) or drop --offline")
    bench = client.backend.get_benchmark(benchmark) if benchmark is not None else {}

    def pick(given: str | None, role: str, field: str) -> Component:
        if given:
            return component(client, given, offline=offline)
        if bench:
            return component(client, int(bench[field]), offline=offline)
        raise UserError(f"no {role} given", f"pass --{role} UID_OR_CONFIG, or --benchmark ID")

    the_model = pick(model, "model", "reference_model_mlcube")
    the_evaluator = pick(evaluator, "evaluator", "data_evaluator_mlcube")
    if data_uid is not None:
        prepared, generated = prepared_dataset(client, data_uid)
        return Plan(source="dataset", model=the_model, evaluator=the_evaluator, prepared=prepared,
                    benchmark=benchmark, dataset=data_uid, data_id=generated)
    prep = pick(data_preparator, "data_preparator", "data_preparation_mlcube")
    if data_path is not None or labels_path is not None:
        if data_path is None or labels_path is None:
            raise UserError("give both --data_path and --labels_path", "the raw data and its labels")
        for path, what in ((data_path, "--data_path"), (labels_path, "--labels_path")):
            if not path.is_dir():
                raise UserError(f"{what} {path} is not a folder", "give the folder holding the files")
        data_id = folders_hash([data_path, labels_path])
        return Plan(source="local" if not bench else "benchmark", model=the_model, evaluator=the_evaluator,
                    prep=prep, data_path=data_path.resolve(), labels_path=labels_path.resolve(),
                    benchmark=benchmark, data_id=data_id)
    if not bench:
        raise UserError("no data to test on", "give --data_path and --labels_path, --data_uid, or --benchmark")
    data, labels, demo = demo_data(client, str(bench.get("demo_dataset_tarball_url") or ""),
                                   bench.get("demo_dataset_tarball_hash"))
    return Plan(source="benchmark", model=the_model, evaluator=the_evaluator, prep=prep, data_path=data,
                labels_path=labels, benchmark=benchmark, data_id=demo.sha256)


def run(client: Client, plan: Plan, *, no_cache: bool = False, offline: bool = False, say: Say = print) -> Outcome:
    """Run the plan (or reuse the same test's results unless `no_cache`) and record `test_run.finished`."""
    uid = plan.uid
    folder = client.storage / "tests" / uid
    results = folder / "results.yaml"
    if results.exists() and not no_cache:
        say(f"compatibility test {uid}: results from cache ({results})")
        meta = yaml.safe_load((folder / "test.yaml").read_text(encoding="utf-8")) or {}
        return Outcome(uid, yaml.safe_load(results.read_text(encoding="utf-8")) or {}, True, folder,
                       str(meta.get("prepared_uid", "")))
    if plan.dataset is not None:  # the site's own data: its policy decides what runs next to it
        from medperf_core.services import policy

        for part in (plan.prep, plan.model, plan.evaluator):
            if part is not None and part.registered is not None:
                policy.require_allowed(client, part.registered, plan.benchmark, plan.dataset)
    shutil.rmtree(folder, ignore_errors=True)
    logs = folder / "logs"
    started = time.monotonic()
    prepared, prepared_uid = plan.prepared, ""
    if plan.prep is not None:
        if plan.data_path is None or plan.labels_path is None:
            raise UserError("a test that prepares data needs the raw data", "give --data_path and --labels_path")
        prepared = folder / "prepared"
        _prepare(client, plan.prep.container, plan.data_path, plan.labels_path, prepared, logs, say)
        prepared_uid = folders_hash([prepared / "data", prepared / "labels"])
    if prepared is None:
        raise UserError("no data to test on", "give --data_path and --labels_path, --data_uid or --benchmark")
    predictions = folder / "predictions"
    say(f"[model {plan.model.label}] infer …")
    run_task(client, plan.model.container, "infer", {"data_path": prepared / "data"}, {"output_path": predictions},
             logs / "infer.log")
    say(f"[evaluator {plan.evaluator.label}] evaluate …")
    run_task(client, plan.evaluator.container, "evaluate",
             {"predictions": predictions, "labels": prepared / "labels"}, {"output_path": results},
             logs / "evaluate.log")
    metrics = yaml.safe_load(results.read_text(encoding="utf-8")) or {}
    if not isinstance(metrics, dict):
        raise ConfigError(f"the evaluator wrote {results} but not as a mapping of metrics", "fix the evaluator")
    duration = round(time.monotonic() - started, 3)
    (folder / "test.yaml").write_text(yaml.safe_dump({"uid": uid, "prepared_uid": prepared_uid}), encoding="utf-8")
    stream = streams.compatibility_test(uid)
    _events, version = client.store.load(stream)
    client.record(stream, version, CompatibilityTestFinished(
        uid=uid, source=plan.source, benchmark=plan.benchmark, dataset=plan.dataset,
        containers={role: c.label for role, c in (("data_preparator", plan.prep), ("model", plan.model),
                                                   ("evaluator", plan.evaluator)) if c is not None},
        metrics=metrics, duration_s=duration, offline=offline,
    ))
    return Outcome(uid, metrics, False, folder, prepared_uid)


def _prepare(client: Client, prep: LocalContainer, data: Path, labels: Path, out: Path, logs: Path,
             say: Say) -> None:
    for step in ("prepare", "sanity_check", "statistics"):
        if step != "prepare" and step not in prep.config.tasks:
            continue
        say(f"[data preparator] {step} …")
        try:
            ready = {"data_path": out / "data", "labels_path": out / "labels",
                     **({} if step == "prepare" else metadata_inputs(prep, step, out / "metadata"))}
            if step == "prepare":
                outputs = {"output_path": out / "data", "output_labels_path": out / "labels"}
                if declares_metadata(prep):
                    outputs[METADATA_VOLUME] = out / "metadata"
                run_task(client, prep, step, {"data_path": data, "labels_path": labels}, outputs,
                         logs / f"{step}.log")
            elif step == "sanity_check":
                run_task(client, prep, step, ready, {}, logs / f"{step}.log")
            else:
                run_task(client, prep, step, ready, {"output_path": out / "statistics.yaml"}, logs / f"{step}.log")
        except MedperfError as e:
            raise type(e)(f"the compatibility test failed at {step}: {e.message}", e.hint) from e
