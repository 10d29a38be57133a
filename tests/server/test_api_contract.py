"""What fuzzing the API found: huge integers never reach the database (400, not 500), the OpenAPI document names
every status an operation answers with its error body, and a 405 names every method the path takes."""

from __future__ import annotations

import pytest
import requests
from _server_helpers import Client

HUGE = 2**63


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", f"/datasets/{HUGE}/", None),
        ("GET", f"/benchmarks/{HUGE * 10}/models/", None),
        ("PUT", f"/datasets/{HUGE}/", {"name": "x"}),
        ("GET", f"/datasets/{HUGE}/benchmarks/1/", None),
        ("GET", f"/benchmarks/?offset={HUGE}", None),
        ("GET", f"/me/datasets/?limit=1&offset={HUGE}", None),
        ("POST", "/results/", {"benchmark": HUGE, "model": 1, "dataset": 1, "results": {}}),
        ("POST", "/datasets/benchmarks/", {"dataset": -HUGE - 1, "benchmark": 1}),
    ],
)
def test_out_of_range_integers_are_400(clients: dict[str, Client], method: str, path: str, body: object) -> None:
    response = clients["do"].request(method, path, body)
    assert response.status_code == 400, response.text
    assert response.json()


def test_the_largest_id_is_simply_not_found(clients: dict[str, Client]) -> None:
    assert clients["do"].get(f"/datasets/{HUGE - 1}/").status_code == 404


def test_every_operation_documents_its_errors(server) -> None:  # type: ignore[no-untyped-def]
    spec = requests.get(server.api + "/openapi.json", timeout=10).json()
    assert "ErrorBody" in spec["components"]["schemas"]
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) >= 30
    for path, method, op in operations:
        codes = set(op["responses"])
        assert "422" not in codes, (method, path)
        assert {"400", "404", "500"} <= codes, (method, path, codes)
        if op.get("security"):
            assert {"401", "403", "409"} <= codes, (method, path, codes)
        assert op["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    create = spec["paths"]["/api/v0/datasets/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])


def test_405_names_every_method_of_the_path(clients: dict[str, Client], world: dict[str, int]) -> None:
    for path, allowed in ((f"/datasets/{world['D']}/", {"GET", "PUT"}), ("/datasets/", {"GET", "POST"}),
                          (f"/datasets/{world['D']}", {"GET", "PUT"})):
        response = clients["do"].request("DELETE", path)
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) == allowed, (path, response.headers["Allow"])
        assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("role", ["do", "anon"])
@pytest.mark.parametrize("path", ["/datasets/benchmarks/", "/mlcubes/benchmarks/", "/mlcubes/benchmarks"])
def test_a_fixed_path_refuses_the_methods_an_id_path_takes(clients: dict[str, Client], role: str, path: str) -> None:
    """`/datasets/benchmarks/` takes POST only: GET and PUT are 405 (found by schemathesis' coverage phase), not a
    400 for "benchmarks" as a dataset id (nor a 401 before that)."""
    for method in ("GET", "PUT", "DELETE", "OPTIONS"):
        response = clients[role].request(method, path, {"approval_status": "APPROVED"} if method == "PUT" else None)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["Allow"] == "POST"
    for method in ("OPTIONS", "HEAD"):  # a fixed path with two methods of its own
        listed = clients[role].request(method, "/benchmarks/")
        assert listed.status_code == 405 and listed.headers["Allow"] == "GET, POST", (method, listed.headers)
    assert clients["do"].get("/benchmarks/abc/").status_code == 400  # a bad id where an id belongs stays a 400


def test_the_document_declares_the_limits_the_server_enforces(server, clients: dict[str, Client]) -> None:  # type: ignore[no-untyped-def]
    spec = requests.get(server.api + "/openapi.json", timeout=10).json()
    schemas = spec["components"]["schemas"]
    name = schemas["DatasetCreate"]["properties"]["name"]
    assert name["minLength"] == 1 and name["maxLength"] >= 1, name
    location = schemas["DatasetCreate"]["properties"]["location"]["anyOf"][0]
    assert location["maxLength"] >= 1, location
    body = {"name": "n" * (name["maxLength"] + 1), "data_preparation_mlcube": 1, "input_data_hash": "h",
            "generated_uid": "g"}
    too_long = clients["do"].request("POST", "/datasets/", body)
    assert too_long.status_code == 400 and "name" in too_long.json(), too_long.text
    for path in ("/api/v0/datasets/{dataset_id}/benchmarks/{benchmark_id}/", "/api/v0/datasets/{dataset_id}/"):
        assert any(p["name"] == "Idempotency-Key" for p in spec["paths"][path]["put"]["parameters"]), path
