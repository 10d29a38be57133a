"""The permission matrix: each endpoint × each role (admin, bo, mo, do, anonymous) is allowed or refused."""

from __future__ import annotations

import pytest
from _server_helpers import (
    CONFIG,
    ROLES,
    Client,
    associate_dataset,
    make_benchmark,
    make_container,
    make_dataset,
    unique,
)

ALL = {"admin": 200, "bo": 200, "mo": 200, "do": 200, "anon": 401}


@pytest.fixture(autouse=True)
def _world_benchmark_decides_itself(clients: dict[str, Client], world: dict[str, int]) -> None:
    """The session's server is shared: the fuzzing test, as its owner, may have set the world benchmark to approve
    requests at once; these tests expect requests to wait for the owner (no change when that is so already)."""
    never = {"model_auto_approval_mode": "NEVER", "dataset_auto_approval_mode": "NEVER"}
    clients["bo"].ok("PUT", f"/benchmarks/{world['B']}/association_policy/", never)


def expect(**codes: int) -> dict[str, int]:
    return {**ALL, **codes}


READS: list[tuple[str, dict[str, int]]] = [
    ("/me/", ALL),
    ("/users/", expect(bo=403, mo=403, do=403)),
    ("/users/{admin_id}/", expect(bo=404, mo=404, do=404)),
    ("/benchmarks/", ALL),
    ("/benchmarks/{B}/", ALL),
    ("/benchmarks/{B}/models/", ALL),
    ("/benchmarks/{B}/datasets/", expect(mo=403, do=403)),
    ("/benchmarks/{B}/results/", expect(mo=403, do=403)),
    ("/benchmarks/{B}/leaderboard/", ALL),  # each role sees what the lists above show it
    ("/mlcubes/", ALL),
    ("/mlcubes/{X}/", ALL),
    ("/mlcubes/{X}/benchmarks/{B}/", ALL),
    ("/datasets/", ALL),
    ("/datasets/{D}/", expect(mo=404)),
    ("/datasets/{D2}/", expect(bo=404, mo=404)),
    ("/datasets/{D}/benchmarks/{B}/", expect(mo=404)),
    ("/results/", ALL),
    ("/results/{R}/", expect(mo=404)),
    ("/me/benchmarks/", ALL),
    ("/me/datasets/", ALL),
    ("/me/mlcubes/", ALL),
    ("/me/results/", ALL),
    ("/me/datasets/associations/", ALL),
    ("/me/mlcubes/associations/", ALL),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "codes"), READS, ids=[p for p, _ in READS])
def test_reads(
    clients: dict[str, Client], world: dict[str, int], path: str, codes: dict[str, int], role: str
) -> None:
    response = clients[role].get(path.format(**world))
    assert response.status_code == codes[role], response.text
    assert response.json(), "every answer has a JSON body"
    if response.status_code == 404:  # refused and missing look the same
        missing = clients[role].get(
            path.replace("{D}", "999999")
            .replace("{D2}", "999999")
            .replace("{R}", "999999")
            .replace("{admin_id}", "999999")
            .format(**world)
        )
        assert missing.status_code == 404
        assert response.json()["detail"].split()[0] == missing.json()["detail"].split()[0]


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_only_what_the_role_may_see(
    clients: dict[str, Client], world: dict[str, int], role: str
) -> None:
    if role == "anon":
        return
    datasets = {d["id"] for d in clients[role].ok("GET", "/datasets/?limit=1000")["results"]}
    results = {r["id"] for r in clients[role].ok("GET", "/results/?limit=1000")["results"]}
    assert (world["D"] in datasets) == (role in ("admin", "bo", "do"))
    assert (world["D2"] in datasets) == (role in ("admin", "do"))
    assert (world["R"] in results) == (role in ("admin", "bo", "do"))


CHANGES = [
    ("/benchmarks/{B}/", {"description": "changed"}, expect(admin=403, mo=403, do=403)),
    ("/mlcubes/{X}/", {"user_metadata": {"k": "v"}}, expect(admin=403, bo=403, do=403)),
    ("/datasets/{D}/", {"description": "changed"}, expect(admin=403, bo=403, mo=404)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("path", "body", "codes"), CHANGES, ids=[f"{p}:{next(iter(b))}" for p, b, _ in CHANGES]
)
def test_only_the_owner_changes_an_entity(
    clients: dict[str, Client],
    world: dict[str, int],
    path: str,
    body: dict[str, object],
    codes: dict[str, int],
    role: str,
) -> None:
    response = clients[role].put(path.format(**world), body)
    assert response.status_code == codes[role], response.text


@pytest.mark.parametrize(
    ("role", "code"), [("admin", 200), ("bo", 403), ("do", 403), ("mo", 403), ("anon", 401)]
)
def test_only_an_admin_approves_a_benchmark(clients: dict[str, Client], role: str, code: int) -> None:
    benchmark = make_benchmark(clients["bo"])
    response = clients[role].put(f"/benchmarks/{benchmark['id']}/", {"approval_status": "APPROVED"})
    assert response.status_code == code, response.text


@pytest.mark.parametrize(
    ("role", "code"), [("admin", 200), ("bo", 200), ("do", 403), ("mo", 403), ("anon", 401)]
)
def test_dataset_association_decided_by_benchmark_owner_or_admin(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int
) -> None:
    d = make_dataset(clients["do"], world["prep"])["id"]
    associate_dataset(clients["do"], clients["bo"], d, world["B"], status=None)
    response = clients[role].put(f"/datasets/{d}/benchmarks/{world['B']}/", {"approval_status": "APPROVED"})
    assert response.status_code == code, response.text


@pytest.mark.parametrize(
    ("role", "code"), [("admin", 403), ("bo", 200), ("do", 403), ("mo", 403), ("anon", 401)]
)
def test_model_association_decided_by_benchmark_owner(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int
) -> None:
    x = make_container(clients["mo"])["id"]
    clients["mo"].ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": x, "benchmark": world["B"]})
    response = clients[role].put(f"/mlcubes/{x}/benchmarks/{world['B']}/", {"approval_status": "REJECTED"})
    assert response.status_code == code, response.text


@pytest.mark.parametrize(
    ("role", "code"), [("admin", 403), ("bo", 403), ("do", 201), ("mo", 404), ("anon", 401)]
)
def test_only_the_dataset_owner_requests_its_association(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int
) -> None:
    d = make_dataset(clients["do"], world["prep"])["id"]
    if role == "bo":  # the benchmark owner sees the dataset once it asked to join another of its benchmarks
        associate_dataset(clients["do"], clients["bo"], d, world["B"], status=None)
    other = clients["bo"].ok(
        "POST",
        "/benchmarks/",
        {
            "name": f"other-{d}",
            "data_preparation_mlcube": world["prep"],
            "reference_model_mlcube": world["ref"],
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
            "data_evaluator_mlcube": world["prep"],
        },
    )["id"]
    clients["admin"].ok("PUT", f"/benchmarks/{other}/", {"approval_status": "APPROVED"})
    response = clients[role].post("/datasets/benchmarks/", {"dataset": d, "benchmark": other})
    assert response.status_code == code, response.text


@pytest.mark.parametrize(
    ("role", "code"), [("admin", 403), ("bo", 403), ("do", 201), ("mo", 404), ("anon", 401)]
)
def test_only_the_dataset_owner_submits_results(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int
) -> None:
    d = make_dataset(clients["do"], world["prep"])["id"]
    associate_dataset(clients["do"], clients["bo"], d, world["B"])
    body = {"benchmark": world["B"], "model": world["ref"], "dataset": d, "results": {"acc": 1.0}}
    response = clients[role].post("/results/", body)
    assert response.status_code == code, response.text


def test_an_invalid_token_is_401(server, clients: dict[str, Client]) -> None:  # type: ignore[no-untyped-def]
    response = clients["anon"].get("/me/", headers={"Authorization": "Bearer bm90LWEtdXNlcg.deadbeef"})
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


# --- the benchmark owner's and the model owner's writes (issue 11): each refused write changes nothing ---


def snapshot(admin: Client, *paths: str) -> list[dict[str, object]]:
    """What the server shows an admin at `paths` (the rows a refused write must leave as they were)."""
    return [admin.ok("GET", p) for p in paths]


@pytest.mark.parametrize(("role", "code"), [("admin", 201), ("bo", 201), ("mo", 201), ("do", 201), ("anon", 401)])
def test_anyone_logged_in_registers_a_container(clients: dict[str, Client], role: str, code: int) -> None:
    before = clients["admin"].ok("GET", "/mlcubes/")["count"]
    response = clients[role].post("/mlcubes/", {"name": unique("container"), "container_config": CONFIG})
    assert response.status_code == code, response.text
    assert clients["admin"].ok("GET", "/mlcubes/")["count"] == before + (code == 201)


@pytest.mark.parametrize(("role", "code"), [("admin", 201), ("bo", 201), ("mo", 201), ("do", 201), ("anon", 401)])
def test_anyone_logged_in_registers_a_benchmark_pending(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int
) -> None:
    before = clients["admin"].ok("GET", "/benchmarks/")["count"]
    body = {"name": unique("benchmark"), "data_preparation_mlcube": world["prep"],
            "reference_model_mlcube": world["ref"], "data_evaluator_mlcube": world["prep"],
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz", "approval_status": "APPROVED"}
    response = clients[role].post("/benchmarks/", body)
    assert response.status_code == code, response.text
    assert clients["admin"].ok("GET", "/benchmarks/")["count"] == before + (code == 201)
    if code == 201:  # the submitter never approves its own benchmark, not even an admin in the same request
        assert response.json()["approval_status"] == "PENDING"


@pytest.mark.parametrize("status", ["APPROVED", "REJECTED"])
@pytest.mark.parametrize(("role", "code"), [("admin", 200), ("bo", 403), ("do", 403), ("mo", 403), ("anon", 401)])
def test_only_an_admin_decides_on_a_benchmark(clients: dict[str, Client], role: str, code: int, status: str) -> None:
    benchmark = make_benchmark(clients["bo"])
    path = f"/benchmarks/{benchmark['id']}/"
    before = snapshot(clients["admin"], path)
    response = clients[role].put(path, {"approval_status": status})
    assert response.status_code == code, response.text
    after = clients["admin"].ok("GET", path)
    assert after["approval_status"] == (status if code == 200 else "PENDING")
    if code != 200:
        assert [after] == before


def test_a_decided_benchmark_does_not_go_back_to_pending(clients: dict[str, Client]) -> None:
    benchmark = make_benchmark(clients["bo"], approved_by=clients["admin"])
    path = f"/benchmarks/{benchmark['id']}/"
    response = clients["admin"].put(path, {"approval_status": "PENDING"})
    assert response.status_code == 400 and "cannot go back to PENDING" in response.json()["detail"], response.text
    assert clients["admin"].ok("GET", path)["approval_status"] == "APPROVED"


@pytest.mark.parametrize(("role", "code"), [("admin", 403), ("bo", 200), ("do", 403), ("mo", 403), ("anon", 401)])
def test_only_the_benchmark_owner_sets_its_association_policy(
    clients: dict[str, Client], role: str, code: int
) -> None:
    benchmark = make_benchmark(clients["bo"], approved_by=clients["admin"])
    path = f"/benchmarks/{benchmark['id']}/"
    before = snapshot(clients["admin"], path)
    response = clients[role].put(f"{path}association_policy/", {"model_auto_approval_mode": "ALWAYS"})
    assert response.status_code == code, response.text
    after = clients["admin"].ok("GET", path)
    if code == 200:
        assert (after["model_auto_approval_mode"], after["association_policy_version"]) == ("ALWAYS", 1)
    else:
        assert [after] == before


@pytest.mark.parametrize(("role", "code"), [("admin", 403), ("bo", 403), ("do", 403), ("mo", 201), ("anon", 401)])
def test_only_the_model_owner_asks_to_join(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int
) -> None:
    x = make_container(clients["mo"])["id"]
    response = clients[role].post("/mlcubes/benchmarks/", {"model_mlcube": x, "benchmark": world["B"]})
    assert response.status_code == code, response.text
    listed = clients["bo"].ok("GET", f"/benchmarks/{world['B']}/models/?limit=1000")["results"]
    assert any(m.get("model_mlcube") == x for m in listed) == (code == 201)
    asked = clients["mo"].get(f"/mlcubes/{x}/benchmarks/{world['B']}/")
    assert asked.status_code == (200 if code == 201 else 404), asked.text
    if code == 201:
        assert asked.json()["approval_status"] == "PENDING"


def _pending_model(clients: dict[str, Client], world: dict[str, int]) -> tuple[int, str]:
    x = make_container(clients["mo"])["id"]
    clients["mo"].ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": x, "benchmark": world["B"]})
    return x, f"/mlcubes/{x}/benchmarks/{world['B']}/"


@pytest.mark.parametrize(
    "body", [{"approval_status": "APPROVED"}, {"approval_status": "REJECTED"}, {"priority": 5}],
    ids=["approve", "reject", "set_priority"],
)
@pytest.mark.parametrize(("role", "code"), [("admin", 403), ("bo", 200), ("do", 403), ("mo", 403), ("anon", 401)])
def test_only_the_benchmark_owner_decides_on_a_model(
    clients: dict[str, Client], world: dict[str, int], role: str, code: int, body: dict[str, object]
) -> None:
    _x, path = _pending_model(clients, world)
    before = snapshot(clients["bo"], path)
    response = clients[role].put(path, body)
    assert response.status_code == code, response.text
    after = clients["bo"].ok("GET", path)
    if code == 200:
        key = next(iter(body))
        assert after[key] == body[key]
    else:
        assert [after] == before
