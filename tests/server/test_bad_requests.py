"""Bad requests get a 4xx whose message says what is wrong, never a 500; wire details MedPerf clients rely on."""

from __future__ import annotations

import pytest
import requests
from _server_helpers import Client

BAD: list[tuple[str, str, object, int, str]] = [
    ("POST", "/mlcubes/", {"name": 5, "container_config": {}}, 400, "name"),
    ("POST", "/mlcubes/", {"container_config": {}}, 400, "name"),
    ("POST", "/mlcubes/", {"name": "no-config"}, 400, "container_config"),
    ("POST", "/mlcubes/", {"name": "bad-config", "container_config": {"tasks": 3}}, 400, "container_config"),
    ("POST", "/mlcubes/", [1, 2], 400, "body"),
    (
        "POST",
        "/benchmarks/",
        {
            "name": "b",
            "data_preparation_mlcube": "one",
            "reference_model_mlcube": 1,
            "data_evaluator_mlcube": 1,
        },
        400,
        "data_preparation_mlcube",
    ),
    (
        "POST",
        "/benchmarks/",
        {
            "name": "b",
            "data_preparation_mlcube": 999999,
            "reference_model_mlcube": 1,
            "data_evaluator_mlcube": 1,
        },
        400,
        "data_preparation_mlcube",
    ),
    (
        "POST",
        "/datasets/",
        {"name": "d", "input_data_hash": "h", "generated_uid": "h"},
        400,
        "data_preparation_mlcube",
    ),
    (
        "POST",
        "/datasets/",
        {
            "name": "d",
            "input_data_hash": "h",
            "generated_uid": "h",
            "data_preparation_mlcube": 1,
            "state": "READY",
        },
        400,
        "state",
    ),
    (
        "POST",
        "/datasets/",
        {
            "name": "d",
            "input_data_hash": "h",
            "generated_uid": "h",
            "data_preparation_mlcube": 1,
            "generated_metadata": "x",
        },
        400,
        "generated_metadata",
    ),
    ("PUT", "/datasets/{D}/benchmarks/{B}/", {"approval_status": "MAYBE"}, 400, "approval_status"),
    ("PUT", "/datasets/{D}/benchmarks/{B}/", {}, 400, "nothing to change"),
    ("POST", "/datasets/benchmarks/", {"dataset": 999999, "benchmark": 1}, 404, "dataset 999999"),
    ("POST", "/datasets/benchmarks/", {"dataset": "{D}", "benchmark": 999999}, 404, "benchmark 999999"),
    ("POST", "/results/", {"benchmark": "{B}", "model": "{X}"}, 400, "dataset"),
    ("GET", "/benchmarks/abc/", None, 400, "benchmark_id"),
    ("GET", "/benchmarks/999999/", None, 404, "benchmark 999999"),
    ("GET", "/mlcubes/999999/", None, 404, "container 999999"),
    ("GET", "/results/999999/", None, 404, "result 999999"),
    ("GET", "/datasets/?limit=-1", None, 400, "limit"),
    ("GET", "/datasets/?offset=x", None, 400, "offset"),
    ("PUT", "/benchmarks/{B}/", {"state": "DEVELOPMENT"}, 400, "DEVELOPMENT"),
    ("GET", "/nothing-here/", None, 404, "Not Found"),
]


def _fill(value: object, world: dict[str, int]) -> object:
    if isinstance(value, str):
        filled = value.format(**world)
        return int(filled) if filled.isdigit() and value.startswith("{") else filled
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "says"), BAD, ids=[f"{m} {p} {says}" for m, p, _, _, says in BAD]
)
def test_bad_requests_are_4xx_with_a_message(
    clients: dict[str, Client],
    world: dict[str, int],
    method: str,
    path: str,
    body: object,
    code: int,
    says: str,
) -> None:
    who = clients["bo"] if "benchmarks/{B}" in path or path == "/benchmarks/{B}/" else clients["do"]
    response = who.request(method, str(_fill(path, world)), _fill(body, world))
    assert response.status_code == code, response.text
    assert says in response.text


def test_malformed_json_is_400(clients: dict[str, Client]) -> None:
    response = clients["do"].session.post(
        clients["do"].api + "/datasets/", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/benchmarks/{B}",
        "/benchmarks/{B}/",
        "/benchmarks/{B}/models",
        "/benchmarks/{B}/models/",
        "/me",
        "/me/",
        "/mlcubes",
        "/mlcubes/",
    ],
)
def test_paths_answer_with_and_without_slash(
    clients: dict[str, Client], world: dict[str, int], path: str
) -> None:
    response = clients["bo"].get(path.format(**world))
    assert response.status_code == 200, response.text


def test_post_is_201_and_put_is_200_also_without_slash(
    clients: dict[str, Client], world: dict[str, int]
) -> None:
    from _server_helpers import CONFIG, unique

    created = clients["mo"].post("/mlcubes", {"name": unique("noslash"), "container_config": CONFIG})
    assert created.status_code == 201
    changed = clients["mo"].put(f"/mlcubes/{created.json()['id']}", {"user_metadata": {"a": 1}})
    assert changed.status_code == 200


def test_pagination(clients: dict[str, Client], world: dict[str, int]) -> None:
    bo = clients["bo"]
    everything = bo.ok("GET", "/mlcubes/")
    assert everything["next"] is None and len(everything["results"]) == everything["count"] >= 4
    first = bo.ok("GET", "/mlcubes/?limit=2&offset=0")
    assert first["count"] == everything["count"] and len(first["results"]) == 2 and first["previous"] is None
    second = bo.session.get(first["next"]).json()
    assert second["results"] == everything["results"][2:4]
    assert "offset=0" in second["previous"]
    seen, url = [], bo.api + "/mlcubes/?limit=3&offset=0"
    while url:
        page = bo.session.get(url).json()
        seen += page["results"]
        url = page["next"]
    assert [r["id"] for r in seen] == [r["id"] for r in everything["results"]]


def test_me_has_the_fields_medperf_clients_read(clients: dict[str, Client]) -> None:
    me = clients["do"].ok("GET", "/me/")
    assert {"id", "username", "email", "first_name", "last_name"} <= set(me)
    assert me["email"] == "testdo@example.com"


def test_openapi_is_served(server) -> None:  # type: ignore[no-untyped-def]
    spec = requests.get(server.api + "/openapi.json", timeout=10).json()
    assert "/api/v0/benchmarks/" in spec["paths"]
    assert "/api/v0/datasets/{dataset_id}/benchmarks/{benchmark_id}/" in spec["paths"]
