"""Bad requests get a 4xx whose message says what is wrong, never a 500; wire details MedPerf clients rely on."""

from __future__ import annotations

import uuid

import pytest
import requests
from _server_helpers import CONFIG, Client, make_container, unique

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
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
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
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
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
    ("GET", "/datasets/?limit=1001", None, 400, "limit: Input should be less than or equal to 1000"),
    ("GET", "/me/results/?limit=0", None, 400, "limit"),
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
    everything = bo.ok("GET", "/mlcubes/?limit=1000")
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


def test_a_list_without_limit_is_one_page_of_32(clients: dict[str, Client], world: dict[str, int]) -> None:
    """No list answers every row: without `limit` the first 32, and `next` (with MedPerf's limit/offset) for more."""
    mo = clients["mo"]
    while mo.ok("GET", "/me/mlcubes/?limit=1")["count"] < 33:
        make_container(mo)
    count = mo.ok("GET", "/me/mlcubes/?limit=1")["count"]
    first = mo.ok("GET", "/me/mlcubes/")
    assert (first["count"], len(first["results"]), first["previous"]) == (count, 32, None)
    assert "limit=32" in first["next"] and "offset=32" in first["next"]
    rest = mo.session.get(first["next"]).json()
    assert len(rest["results"]) == min(32, count - 32) and "offset=0" in rest["previous"]
    ids = [r["id"] for r in first["results"] + rest["results"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    last = mo.ok("GET", f"/me/mlcubes/?limit=32&offset={count - 1}")
    assert len(last["results"]) == 1 and last["next"] is None
    beyond = mo.ok("GET", f"/me/mlcubes/?limit=32&offset={count + 5}")
    assert beyond["results"] == [] and beyond["count"] == count


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("description", "x" * 1_000_000, "description: at most 20 characters, got 1000000"),  # MedPerf's limit
        ("location", "x" * 21, "location: at most 20 characters, got 21"),
        ("user_metadata", {"blob": "x" * 300_000}, "user_metadata: at most 262144 characters of JSON"),
    ],
)
def test_text_fields_have_size_limits(
    clients: dict[str, Client], world: dict[str, int], field: str, value: object, says: str
) -> None:
    do = clients["do"]
    before = do.ok("GET", "/me/datasets/?limit=1")["count"]
    raw = uuid.uuid4().hex
    body = {"name": "big", "input_data_hash": raw, "generated_uid": raw, "data_preparation_mlcube": world["prep"]}
    response = do.post("/datasets/", {**body, field: value})
    assert response.status_code == 400 and list(response.json()) == [field], response.text[:300]
    assert response.json()[field][0].startswith(says), response.text[:300]
    assert do.ok("GET", "/me/datasets/?limit=1")["count"] == before
    changed = do.put(f"/datasets/{world['D2']}/", {field: value})
    assert changed.status_code == 400 and field in changed.json(), changed.text[:300]
    fits = do.post("/datasets/", {**body, field: value[:20] if isinstance(value, str) else {"blob": "x"}})
    assert fits.status_code == 201, fits.text[:300]
@pytest.mark.parametrize(
    ("path", "field"),
    [("/benchmarks/", "name"), ("/benchmarks/", "description"), ("/datasets/", "name"),
     ("/datasets/", "description"), ("/datasets/", "location"), ("/mlcubes/", "name")],
)
def test_medperfs_text_limits_are_enforced_at_registration(
    clients: dict[str, Client], world: dict[str, int], path: str, field: str
) -> None:
    bodies = {
        "/benchmarks/": {
            "name": unique("b")[:12], "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
            "data_preparation_mlcube": world["prep"], "reference_model_mlcube": world["ref"],
            "data_evaluator_mlcube": world["prep"],
        },
        "/datasets/": {
            "name": unique("d")[:12], "input_data_hash": "h", "generated_uid": "h",
            "data_preparation_mlcube": world["prep"],
        },
        "/mlcubes/": {"name": unique("c")[:12], "container_config": CONFIG},
    }
    before = clients["bo"].get(path + "?limit=1").json()["count"]
    response = clients["bo"].post(path, {**bodies[path], field: "x" * 21})
    assert response.status_code == 400, response.text
    assert response.json() == {field: [f"{field}: at most 20 characters, got 21"]}
    assert clients["bo"].get(path + "?limit=1").json()["count"] == before
    assert clients["bo"].post(path, {**bodies[path], field: "x" * 20}).status_code == 201


def test_a_benchmark_needs_a_demo_dataset_url(clients: dict[str, Client], world: dict[str, int]) -> None:
    body = {
        "name": unique("b")[:12], "data_preparation_mlcube": world["prep"], "reference_model_mlcube": world["ref"],
        "data_evaluator_mlcube": world["prep"],
    }
    for demo in ({}, {"demo_dataset_tarball_url": ""}):
        response = clients["bo"].post("/benchmarks/", {**body, **demo})
        assert response.status_code == 400 and "demo_dataset_tarball_url" in response.json(), response.text
    created = clients["bo"].ok("POST", "/benchmarks/", {**body, "demo_dataset_tarball_url": "https://x.test/d.tgz"})
    emptied = clients["bo"].put(f"/benchmarks/{created['id']}/", {"demo_dataset_tarball_url": ""})
    assert emptied.status_code == 400 and "demo_dataset_tarball_url" in emptied.json()


@pytest.mark.parametrize(
    ("field", "value", "position"),
    [
        ("description", "a\x00b", "U+0000 at position 1"),
        ("name", "\x00", "U+0000 at position 0"),
        ("location", "bell\x07", "U+0007 at position 4"),
        ("user_metadata", {"note": "x\x00"}, "U+0000 at position 1"),
        ("user_metadata", {"k\x00": 1}, "U+0000 at position 1"),
    ],
)
def test_control_characters_in_text_are_400_naming_the_field(
    clients: dict[str, Client], world: dict[str, int], field: str, value: object, position: str
) -> None:
    """A NUL is stored by SQLite but not by PostgreSQL: refused alike on both, before anything is written."""
    do = clients["do"]
    before = do.ok("GET", "/me/datasets/?limit=1")["count"]
    raw = uuid.uuid4().hex
    body = {"name": "ctl", "input_data_hash": raw, "generated_uid": raw, "data_preparation_mlcube": world["prep"]}
    response = do.post("/datasets/", {**body, field: value})
    assert response.status_code == 400, response.text[:300]
    assert list(response.json()) == [field] and position in response.json()[field][0], response.text[:300]
    assert do.ok("GET", "/me/datasets/?limit=1")["count"] == before
    changed = do.put(f"/datasets/{world['D2']}/", {field: value})
    assert changed.status_code == 400 and list(changed.json()) == [field], changed.text[:300]


@pytest.mark.parametrize("path", ["/mlcubes/", "/benchmarks/", "/results/"])
def test_a_nul_anywhere_in_a_body_is_400(clients: dict[str, Client], world: dict[str, int], path: str) -> None:
    bodies: dict[str, tuple[str, dict[str, object]]] = {
        "/mlcubes/": ("container_config", {"name": unique("c")[:12],
                                           "container_config": {**CONFIG, "image": "example/m\x00:1"}}),
        "/benchmarks/": ("description", {
            "name": unique("b")[:12], "description": "\x00", "demo_dataset_tarball_url": "https://example.org/d.tgz",
            "data_preparation_mlcube": world["prep"], "reference_model_mlcube": world["ref"],
            "data_evaluator_mlcube": world["prep"],
        }),
        "/results/": ("results", {"benchmark": world["B"], "model": world["X"], "dataset": world["D"],
                                  "results": {"acc\x00": 0.5}}),
    }
    field, body = bodies[path]
    client = clients["do" if path == "/results/" else "bo"]
    response = client.post(path, body)
    assert response.status_code == 400 and list(response.json()) == [field], response.text[:300]


def test_tabs_and_newlines_stay_allowed(clients: dict[str, Client], world: dict[str, int]) -> None:
    changed = clients["do"].ok("PUT", f"/datasets/{world['D2']}/", {"description": "a\tb\r\nc"})
    assert changed["description"] == "a\tb\r\nc"
