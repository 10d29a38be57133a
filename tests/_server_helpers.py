"""Shared by tests/server and tests/backends: a real server for the session, a client per demo role, a world.

conftest files import the fixtures from here (`from _server_helpers import server, clients, world`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, medperf_command, start_server

ROLES = ("admin", "bo", "mo", "do", "anon")


class Client:
    """requests against the API as one role (`anon`: no token). Never follows redirects."""

    def __init__(self, server: ServerProcess, role: str) -> None:
        self.role = role
        self.api = server.api
        self.session = requests.Session()
        if role != "anon":
            self.session.headers["Authorization"] = f"Bearer {server.token(DEMO_EMAILS[role])}"

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.request(
            method, self.api + path, json=body, allow_redirects=False, timeout=30, **kw
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, body, **kw)

    def ok(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = self.request(method, path, body)
        assert response.status_code == (201 if method == "POST" else 200), response.text
        result: dict[str, Any] = response.json()
        return result


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


CONFIG = {
    "container_type": "DockerImage",
    "image": "example/model:1",
    "tasks": {
        "infer": {
            "run_args": {"command": "python3 /infer.py"},
            "input_volumes": {"data_path": {"mount_path": "/data", "type": "directory"}},
            "output_volumes": {"output_path": {"mount_path": "/out", "type": "directory"}},
        }
    },
}


def run_medperf(*args: str, home: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*medperf_command(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MEDPERF_HOME": home},
    )


DATABASES = ("sqlite", "postgresql")


@contextlib.contextmanager
def server_database(kind: str) -> Iterator[str | None]:
    """The --database URL of a new server on `kind` (None: SQLite in its data dir); a PostgreSQL database is
    created for it and dropped afterwards (skipped, or failed under CI, when no PostgreSQL is available)."""
    if kind == "sqlite":
        yield None
        return
    from medperf_core.testing.postgres import fresh_database, require_postgres

    require_postgres()
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session", params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The session's server, once on SQLite and once on PostgreSQL: every test that uses it runs on both.
    At the end its event log must verify and replay to the same state."""
    data_dir = tmp_path_factory.mktemp(f"server-data-{request.param}")
    home = str(tmp_path_factory.mktemp("server-home"))
    with server_database(request.param) as database:
        running = start_server(data_dir, env={"MEDPERF_HOME": home}, database=database)
        yield running
        code = running.stop()
        assert "Traceback" not in running.log(), running.log()[-3000:]
        for command in (("events", "verify"), ("events", "replay", "--check-only")):
            done = run_medperf(*command, *running.audit_args(), home=home)
            assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        assert code in (0, -15), running.log()[-2000:]


@pytest.fixture(scope="session")
def clients(server: ServerProcess) -> dict[str, Client]:
    return {role: Client(server, role) for role in ROLES}


def make_container(client: Client, **fields: Any) -> dict[str, Any]:
    """An operational container unless `state` says otherwise (models join benchmarks only when operational)."""
    body = {"name": unique("container"), "container_config": CONFIG, "state": "OPERATION", **fields}
    return client.ok("POST", "/mlcubes/", body)


def approve_benchmark(admin: Client, benchmark: dict[str, Any]) -> dict[str, Any]:
    return admin.ok("PUT", f"/benchmarks/{benchmark['id']}/", {"approval_status": "APPROVED"})


def make_benchmark(bo: Client, *, approved_by: Client | None = None, **fields: Any) -> dict[str, Any]:
    """A benchmark of `bo` over three new containers; approved when `approved_by` (an admin) is given."""
    prep, ref, metrics = (make_container(bo)["id"] for _ in range(3))
    benchmark = bo.ok(
        "POST",
        "/benchmarks/",
        {
            "name": unique("benchmark"),
            "data_preparation_mlcube": prep,
            "reference_model_mlcube": ref,
            "demo_dataset_tarball_url": "https://example.org/demo.tar.gz",
            "data_evaluator_mlcube": metrics,
            **fields,
        },
    )
    return approve_benchmark(approved_by, benchmark) if approved_by is not None else benchmark


def make_dataset(client: Client, prep: int, *, operational: bool = True) -> dict[str, Any]:
    raw = uuid.uuid4().hex
    dataset = client.ok(
        "POST",
        "/datasets/",
        {
            "name": unique("dataset"),
            "input_data_hash": raw,
            "generated_uid": raw,
            "data_preparation_mlcube": prep,
        },
    )
    if operational:
        dataset = client.ok(
            "PUT",
            f"/datasets/{dataset['id']}/",
            {
                "input_data_hash": raw,
                "generated_uid": uuid.uuid4().hex,
                "generated_metadata": {"n": 3},
                "state": "OPERATION",
            },
        )
    return dataset


def associate_dataset(
    do: Client, bo: Client, dataset: int, benchmark: int, status: str | None = "APPROVED"
) -> None:
    do.ok(
        "POST",
        "/datasets/benchmarks/",
        {
            "dataset": dataset,
            "benchmark": benchmark,
            "approval_status": "PENDING",
            "metadata": {"test_result": {}},
        },
    )
    if status:
        bo.ok("PUT", f"/datasets/{dataset}/benchmarks/{benchmark}/", {"approval_status": status})


@pytest.fixture(scope="session")
def world(clients: dict[str, Client]) -> dict[str, int]:
    """Benchmark B (bo) with an approved model X (mo), an approved operational dataset D (do) with a result R,
    and a private dataset D2 of do that is associated with nothing."""
    admin, bo, mo, do = (clients[r] for r in ("admin", "bo", "mo", "do"))
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=admin)
    b = benchmark["id"]
    x = make_container(mo)["id"]
    mo.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": x, "benchmark": b, "approval_status": "PENDING"})
    bo.ok("PUT", f"/mlcubes/{x}/benchmarks/{b}/", {"approval_status": "APPROVED"})
    d = make_dataset(do, benchmark["data_preparation_mlcube"])["id"]
    associate_dataset(do, bo, d, b)
    result = do.ok("POST", "/results/", {"benchmark": b, "model": x, "dataset": d, "results": {"acc": 0.5}})
    d2 = make_dataset(do, benchmark["data_preparation_mlcube"], operational=False)["id"]
    return {
        "B": b,
        "X": x,
        "D": d,
        "D2": d2,
        "R": result["id"],
        "ref": benchmark["reference_model_mlcube"],
        "prep": benchmark["data_preparation_mlcube"],
        "admin_id": admin.ok("GET", "/me/")["id"],
    }
