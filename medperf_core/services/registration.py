"""The benchmark owner's and the model owner's registrations: containers, benchmarks, model associations.

Each is planned first (inputs read, hashed and checked, the compatibility test run: nothing sent), shown, and then
sent. Local files are uploaded to the server's file store; URLs are registered as given.
"""

from __future__ import annotations

from typing import Any

import yaml

from medperf_core.containers.config import loads_container_config
from medperf_core.errors import (
    ConfigError,
    IntegrityError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    UserError,
)
from medperf_core.services import compatibility, outbox
from medperf_core.services.artifacts import Artifact, resolve
from medperf_core.services.client import Client
from medperf_core.services.datasets import Say

Body = dict[str, Any]


def _yaml(artifact: Artifact) -> Any:
    try:
        return yaml.safe_load(artifact.path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        from medperf_core.yaml_errors import yaml_problem

        raise ConfigError(f"the {artifact.what} {artifact.source} does not parse as YAML: {yaml_problem(e)}",
                          "fix the file") from e


def _url(client: Client, artifact: Artifact) -> str:
    """Where the server will find the file: its URL as given, or the server's copy of a local file."""
    if artifact.is_url:
        return artifact.source
    stored = client.backend.upload_file(artifact.path)
    if stored.get("sha256") != artifact.sha256:
        raise IntegrityError(f"the server stored {artifact.source} with sha256 {stored.get('sha256')}, "
                             f"not {artifact.sha256}", "the file changed while it was sent; try again")
    return str(stored["url"])


def plan_container(
    client: Client, *, name: str, config: str, config_hash: str | None = None, parameters: str | None = None,
    parameters_hash: str | None = None, additional: str | None = None, additional_hash: str | None = None,
    image_hash: str | None = None, operational: bool = False,
) -> dict[str, Any]:
    """Read, parse and hash everything a container registration sends; resolve the image to its digest."""
    if not name.strip():
        raise UserError("the container needs a name", "pass --name NAME")
    client.backend  # noqa: B018 (not logged in, or offline: say so before hashing files and resolving the image)
    cache = client.storage / "submissions"
    config_file = resolve(config, "container config", cache, config_hash)
    parsed = loads_container_config(config_file.path.read_text(encoding="utf-8"), config_file.path)
    body: Body = {
        "name": name,
        "container_config": _yaml(config_file),
        "mlcube_hash": config_file.sha256,
        "state": "OPERATION" if operational else "DEVELOPMENT",
    }
    files = {"config": config_file}
    if parameters:
        params = resolve(parameters, "parameters file", cache, parameters_hash)
        loaded = _yaml(params)
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"the parameters file {parameters} is not a mapping", "write `key: value` lines")
        body["parameters_config"] = loaded or {}
        body["parameters_hash"] = params.sha256
        files["parameters"] = params
    elif parameters_hash:
        raise UserError("--parameters-hash without --parameters-file", "give the file it is the hash of")
    if additional:
        extra = resolve(additional, "additional files", cache, additional_hash)
        body["additional_files_tarball_hash"] = extra.sha256
        files["additional"] = extra
    elif additional_hash:
        raise UserError("--additional-hash without --additional-file", "give the tarball it is the hash of")
    digest = client.runner.image_hash(parsed)
    if image_hash and image_hash.strip().lower() not in (digest, digest.removeprefix("sha256:")):
        raise IntegrityError(f"image {parsed.image} has digest {digest}, not the given {image_hash}",
                             "rebuild or pull the right image, or drop --image-hash")
    body["image_hash"] = digest
    body["metadata"] = {"image": parsed.image}
    return {"body": body, "files": files}


def submit_container(client: Client, plan: dict[str, Any]) -> Body:
    body = dict(plan["body"])
    files: dict[str, Artifact] = plan["files"]
    body["git_mlcube_url"] = _url(client, files["config"])
    if "parameters" in files:
        body["git_parameters_url"] = _url(client, files["parameters"])
    if "additional" in files:
        body["additional_files_tarball_url"] = _url(client, files["additional"])
    return outbox.send_once(client, "container.create", body)[0]


def _container(client: Client, uid: int, role: str) -> Body:
    try:
        return client.backend.get_container(uid)
    except NotFoundError:
        raise NotFoundError(f"the {role} container {uid} does not exist on the server",
                            "see the containers with: medperf container ls") from None


def plan_benchmark(
    client: Client, *, name: str, description: str, docs_url: str, demo_url: str, demo_hash: str | None,
    prep: int, model: int, evaluator: int, operational: bool, skip_preparation: bool = False,
    no_cache: bool = False, primary_metric: str = "", say: Say = print,
) -> dict[str, Any]:
    """Check the containers, run the compatibility test on the demo dataset; nothing is sent."""
    if not name.strip():
        raise UserError("the benchmark needs a name", "pass --name NAME")
    rows = {role: _container(client, uid, role) for role, uid in
            (("data preparation", prep), ("reference model", model), ("evaluator", evaluator))}
    if operational:
        for role, row in rows.items():
            if row.get("state") != "OPERATION":
                raise InvalidTransitionError(
                    f"the {role} container {row['id']} is in development; an operational benchmark needs "
                    "operational containers", "register it with --operational, or drop --operational here")
    data, labels, demo = compatibility.demo_data(client, demo_url, demo_hash)
    plan = compatibility.Plan(
        source="benchmark",
        prep=None if skip_preparation else compatibility.component(client, prep, offline=False),
        model=compatibility.component(client, model, offline=False),
        evaluator=compatibility.component(client, evaluator, offline=False),
        data_path=data, labels_path=labels, data_id=demo.sha256,
        prepared=data.parent if skip_preparation else None,
    )
    outcome = compatibility.run(client, plan, no_cache=no_cache, say=say)
    _check_primary_metric(primary_metric, outcome.metrics)
    body: Body = {
        "name": name, "description": description, "docs_url": docs_url,
        "demo_dataset_tarball_hash": demo.sha256, "demo_dataset_generated_uid": outcome.prepared_uid,
        "data_preparation_mlcube": prep, "reference_model_mlcube": model, "data_evaluator_mlcube": evaluator,
        "state": "OPERATION" if operational else "DEVELOPMENT",
        "metadata": {"results": outcome.metrics, "compatibility_test": outcome.uid},
    }
    if primary_metric:
        body["primary_metric"] = primary_metric
    return {"body": body, "demo": demo, "results": outcome.metrics}


def _check_primary_metric(metric: str, results: dict[str, Any]) -> None:
    """The leaderboard ranks by a metric the evaluator computes: one of the demo results' (flattened) keys."""
    from medperf_core.domain.leaderboard import flatten

    names = sorted(flatten(results))
    if metric and metric not in names:
        raise UserError(f"--primary-metric {metric!r} is not a metric of the evaluator's results",
                        f"use one of: {', '.join(names) or '(none: the evaluator computed no numbers)'}")


def submit_benchmark(client: Client, plan: dict[str, Any]) -> Body:
    body = {**plan["body"], "demo_dataset_tarball_url": _url(client, plan["demo"])}
    return outbox.send_once(client, "benchmark.create", body)[0]


def approved_benchmark(client: Client, benchmark_id: int) -> Body:
    benchmark = client.backend.get_benchmark(benchmark_id)
    status = str(benchmark.get("approval_status", "")).upper()
    if status != "APPROVED":
        raise InvalidTransitionError(f"benchmark {benchmark_id} is {status.lower()}, not approved",
                                     "wait until an admin approves it (medperf benchmark ls)")
    return benchmark


def plan_model_association(client: Client, benchmark_id: int, model_id: int, *, no_cache: bool = False,
                           say: Say = print) -> dict[str, Any]:
    """The model on the benchmark's demo data with its preparator and evaluator; fails before anything is sent."""
    benchmark = approved_benchmark(client, benchmark_id)
    model = _container(client, model_id, "model")
    if model.get("owner") != client.backend.me().get("id"):
        raise PermissionDeniedError(f"container {model_id} is not yours; only its owner asks to join a benchmark",
                                    "see your containers: medperf container ls --mine")
    if model.get("state") != "OPERATION":
        raise InvalidTransitionError(f"container {model_id} is in development; only operational models join",
                                     "register the model with --operational")
    outcome = run_benchmark_test(client, benchmark, str(model_id), no_cache=no_cache, say=say)
    return {"metadata": {"test_result": outcome.metrics, "compatibility_test": outcome.uid}}


def request_model_association(client: Client, benchmark_id: int, model_id: int, metadata: Body) -> Body:
    """Recorded before it is sent (see services/outbox.py). Run again after the server accepted it (the command
    killed before it learnt so), it answers with the association the first run created instead of a conflict."""
    context = {"model": model_id, "benchmark": benchmark_id}
    client.flush_pending()
    mine = {**context, "by": client.actor}
    if any(r["operation"] == "model_association.request" and r["context"] == mine and r["body"]["metadata"] ==
           metadata for r in client.local.requests("done")):
        try:
            row = client.backend.get_model_association(model_id, benchmark_id)
        except NotFoundError:
            row = {}
        if row.get("approval_status") in ("PENDING", "APPROVED"):
            return row
    body = {"model_mlcube": model_id, "benchmark": benchmark_id, "metadata": metadata, "approval_status": "PENDING"}
    return outbox.send(client, "model_association.request", body, context)


def run_benchmark_test(client: Client, benchmark: Body, model: str | None, *, no_cache: bool = False,
                       say: Say = print) -> compatibility.Outcome:
    """A registered benchmark's test: its demo data, preparator and evaluator, and `model` (default: its own)."""
    plan = compatibility.plan_test_run(client, benchmark=int(benchmark["id"]), model=model)
    return compatibility.run(client, plan, no_cache=no_cache, say=say)
