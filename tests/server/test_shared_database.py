"""Two server processes on one PostgreSQL database (as on two hosts), without delays or races: what one writes the
other answers at once, ids never collide, and no answer kept by a process (the kept answers of
`server/answers.py`, the read model's) outlives the log position it was read at."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _server_helpers import Client, make_container, run_medperf, server_database

from medperf_core.testing.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    data_dir = tmp_path_factory.mktemp("shared-data")  # shared for the local auth secret only
    env = {"MEDPERF_HOME": str(tmp_path_factory.mktemp("shared-home"))}
    with server_database("postgresql") as url, start_server(data_dir, env=env, database=url) as a, start_server(
        data_dir, env=env, database=url, workers=2
    ) as b:
        yield a, b, url
        for server in (a, b):
            assert "Traceback" not in server.log(), server.log()[-3000:]


def _dataset_body(prep: int) -> dict[str, Any]:
    raw = uuid.uuid4().hex
    return {"name": f"ds-{raw[:8]}", "input_data_hash": raw, "generated_uid": raw, "data_preparation_mlcube": prep}


def test_writes_through_one_server_are_read_at_once_through_the_other(
    two_servers: tuple[ServerProcess, ServerProcess, str],
) -> None:
    a, b, _url = two_servers
    do_a, do_b = Client(a, "do"), Client(b, "do")
    prep = make_container(Client(a, "bo"))["id"]
    for writer, reader in ((do_a, do_b), (do_b, do_a)):
        before = reader.ok("GET", "/datasets/?limit=1000")  # kept by the reader's process from now on
        assert reader.ok("GET", "/datasets/?limit=1000") == before
        created = writer.ok("POST", "/datasets/", _dataset_body(prep))
        assert reader.ok("GET", f"/datasets/{created['id']}/") == created
        after = reader.ok("GET", "/datasets/?limit=1000")
        assert after["count"] == before["count"] + 1 and after["results"][-1] == created

        kept = reader.ok("GET", f"/datasets/{created['id']}/")  # kept again, then changed through the writer
        changed = writer.ok("PUT", f"/datasets/{created['id']}/", {"name": f"renamed-{created['id']}"})
        assert changed["name"] != kept["name"]
        assert reader.ok("GET", f"/datasets/{created['id']}/") == changed
        assert reader.ok("GET", "/datasets/?limit=1000")["results"][-1] == changed


def test_ids_from_both_servers_never_collide(two_servers: tuple[ServerProcess, ServerProcess, str]) -> None:
    a, b, url = two_servers
    clients = [Client(a, "do"), Client(b, "do")]
    prep = make_container(Client(b, "bo"))["id"]
    bodies = [(clients[i % 2], _dataset_body(prep)) for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda cb: cb[0].post("/datasets/", cb[1]), bodies))
    failed = [r.text for r in responses if r.status_code != 201]
    assert not failed, failed
    created = [r.json() for r in responses]
    ids = [d["id"] for d in created]
    assert len(set(ids)) == len(ids), sorted(ids)
    for (_client, body), dataset in zip(bodies, created, strict=True):
        assert dataset["name"] == body["name"]
        for reader in clients:  # each id names the same dataset on both servers
            assert reader.ok("GET", f"/datasets/{dataset['id']}/")["input_data_hash"] == body["input_data_hash"]
    listed = {d["id"] for d in clients[0].ok("GET", "/datasets/?limit=1000")["results"]}
    assert set(ids) <= listed
    assert listed == {d["id"] for d in clients[1].ok("GET", "/datasets/?limit=1000")["results"]}
    home = str(Path(a.data_dir).parent / "audit-home")
    for command in (("events", "verify"), ("events", "replay", "--check-only")):
        done = run_medperf(*command, "--database", url, home=home)
        assert done.returncode == 0, done.stdout + done.stderr
