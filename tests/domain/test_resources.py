"""Each entity is defined once (domain/resources.py); every derived piece must agree with that definition.

The HTTP models, the local backend's validation, the read model's tables and the API's answers are all derived;
these tests fail when any of them drifts (a field added to one and not to the others).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from medperf_core.domain import benchmarks, containers, datasets
from medperf_core.domain import events as ev
from medperf_core.domain.resources import (
    ASSOCIATIONS,
    BENCHMARK,
    CONTAINER,
    DATASET,
    DECISION,
    RESULT,
    USER,
    Resource,
    all_resources,
)
from medperf_core.endpoints import endpoint
from medperf_core.errors import FieldError
from medperf_core.server import models
from medperf_core.server.auth import DEMO_USERS
from medperf_core.server.services import ServerServices
from medperf_core.server.services.fields import clean
from medperf_core.store.sqlite.server_tables import ServerTables


def _model(name: str) -> type[models.Body]:
    """The body model of the endpoint table's row `name`."""
    row = endpoint(name)
    assert row.body is not None
    return models.request_model(row.body, row.method)


BODIES: list[tuple[Resource, type[models.Body], type[models.Body]]] = [
    (CONTAINER, _model("create_container"), _model("update_container")),
    (BENCHMARK, _model("create_benchmark"), _model("update_benchmark")),
    (DATASET, _model("create_dataset"), _model("update_dataset")),
]


@pytest.mark.parametrize(("resource", "create", "update"), BODIES, ids=lambda x: getattr(x, "name", ""))
def test_the_http_models_accept_exactly_the_writable_fields(
    resource: Resource, create: type[models.Body], update: type[models.Body]
) -> None:
    writable = {f.name for f in resource.writable()}
    assert set(create.model_fields) == writable == set(update.model_fields)
    required = {name for name, f in create.model_fields.items() if f.is_required()}
    assert required == {f.name for f in resource.fields if f.required}
    assert not any(f.is_required() for f in update.model_fields.values())


def test_the_association_and_result_models_follow_their_resources() -> None:
    for resource, model in (
        (ASSOCIATIONS["dataset"], _model("request_dataset_association")),
        (ASSOCIATIONS["model"], _model("request_model_association")),
        (RESULT, _model("submit_result")),
        (DECISION, _model("decide_dataset_association")),
    ):
        assert set(model.model_fields) == {f.name for f in resource.writable()}, resource.name


def test_the_read_models_tables_have_exactly_the_resources_fields() -> None:
    import sqlite3

    from sqlite_utils import Database

    db = Database(sqlite3.connect(":memory:"))
    ServerTables().reset(db)
    for resource in all_resources():
        columns = [c.name for c in db[resource.table].columns]
        assert columns == resource.names(), resource.name
        for spec in resource.fields:
            column = next(c for c in db[resource.table].columns if c.name == spec.name)
            assert column.type == ("INTEGER" if spec.kind in (int, bool) else "TEXT"), spec


@pytest.mark.parametrize("resource", list(all_resources()), ids=lambda r: r.name)
def test_clean_keeps_the_writable_fields_and_checks_their_types(resource: Resource) -> None:
    samples = {int: 7, str: "x", bool: True, dict: {"a": 1}, list: ["a@example.org"]}
    body: dict[str, Any] = {f.name: (f.choices[0] if f.choices else samples[f.kind]) for f in resource.fields}
    body["not_a_field"] = 1
    assert set(clean(body, resource)) == {f.name for f in resource.writable()}
    for spec in resource.writable():
        wrong = "text" if spec.kind is not str else 12
        with pytest.raises(FieldError) as refused:
            clean({spec.name: wrong}, resource)
        assert refused.value.field == spec.name


def test_frozen_and_registration_fields_are_fields_of_the_resource() -> None:
    for resource, registered in (
        (CONTAINER, containers.IN_REGISTRATION),
        (BENCHMARK, benchmarks.IN_REGISTRATION),
        (DATASET, datasets.IN_REGISTRATION),
    ):
        writable = {f.name for f in resource.writable()}
        assert set(resource.frozen()) <= writable, resource.name
        assert set(registered) <= writable, resource.name
    own = {"dataset_id", "owner", "benchmark", "data_path", "labels_path"}  # the last three: the client's log only
    registered_fields = {a.name for a in attrs.fields(ev.DatasetRegistered)} - own
    assert registered_fields <= set(DATASET.names())
    assert {a.name for a in attrs.fields(ev.BenchmarkRegistered)} - {"benchmark_id"} <= set(BENCHMARK.names())


def test_every_answer_has_exactly_the_wire_fields(tmp_path: Path) -> None:
    services = ServerServices.open(tmp_path / "server")
    try:
        bo = services.users.identify(DEMO_USERS["testbo@example.com"])
        do = services.users.identify(DEMO_USERS["testdo@example.com"])
        config = {"container_type": "DockerImage", "image": "x:1", "tasks": {"infer": {"run_args": {"command": "run"}}}}
        ids = [services.containers.create(bo, {"name": f"c{i}", "container_config": config, "state": "OPERATION"})["id"]
               for i in range(3)]
        admin = services.users.identify(DEMO_USERS["testadmin@example.com"])
        benchmark = services.benchmarks.create(bo, {
            "name": "b", "data_preparation_mlcube": ids[0], "reference_model_mlcube": ids[1],
            "data_evaluator_mlcube": ids[2], "state": "OPERATION", "demo_dataset_tarball_url": "https://x.test/d.tgz",
        })
        benchmark = services.benchmarks.update(admin, benchmark["id"], {"approval_status": "APPROVED"})
        dataset = services.datasets.create(do, {
            "name": "d", "input_data_hash": "h", "generated_uid": "h", "data_preparation_mlcube": ids[0],
        })
        dataset = services.datasets.update(do, dataset["id"], {
            "generated_uid": "u", "generated_metadata": {"n": 1}, "state": "OPERATION",
        })
        association = services.associations.request(
            do, "dataset", {"dataset": dataset["id"], "benchmark": benchmark["id"]}
        )
        services.associations.update(bo, "dataset", dataset["id"], benchmark["id"], {"approval_status": "APPROVED"})
        result = services.results.submit(do, {
            "benchmark": benchmark["id"], "model": ids[1], "dataset": dataset["id"], "results": {"auc": 0.9},
        })
        answers = {
            USER: services.users.me(do),
            CONTAINER: services.containers.get(bo, ids[0]),
            BENCHMARK: benchmark,
            DATASET: dataset,
            ASSOCIATIONS["dataset"]: association,
            ASSOCIATIONS["model"]: services.associations.request(
                bo, "model", {"model_mlcube": ids[2], "benchmark": benchmark["id"]}
            ),
            RESULT: result,
        }
        for resource, answer in answers.items():
            assert list(answer) == resource.wire_names(), resource.name
            for spec in resource.fields:
                if spec.wire and answer[spec.name] is not None:
                    assert isinstance(answer[spec.name], spec.kind), (resource.name, spec.name)
    finally:
        services.close()


@pytest.mark.parametrize("resource", list(all_resources()), ids=lambda r: r.name)
def test_clean_refuses_control_characters_in_every_text_field(resource: Resource) -> None:
    """The local backend's check, the same as the HTTP models': NUL and C0 controls but tab, LF and CR."""
    bad = {str: "a\x00b", dict: {"a": "\x1b"}, list: ["a@example.org\x00"]}
    for spec in resource.writable():
        if spec.choices or spec.kind not in bad:
            continue
        with pytest.raises(FieldError) as refused:
            clean({spec.name: bad[spec.kind]}, resource)
        assert refused.value.field == spec.name and "control character" in str(refused.value)
        if spec.kind is str:
            assert clean({spec.name: "a\tb\nc\r"}, resource)[spec.name] == "a\tb\nc\r"
