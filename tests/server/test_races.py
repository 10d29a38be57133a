"""RACE TESTS (issue 9, part 1): writers in different OS processes decide on the same state, against a real
2-worker server (`medperf server start --workers 2`).

Each race runs three times: a 2-worker server on SQLite, a 2-worker server on PostgreSQL, and two separate server
processes (`medperf server start` twice, as on two hosts) on one PostgreSQL database.

The module starts its own servers with MEDPERF_SERVER_DECISION_DELAY (DELAY s): every service sleeps that long
between reading the state and appending its decision. Each racing client process pins its keep-alive connection
to one of the two server workers; the racers of the second worker start DELAY/2 later. So worker 1 decides at
t=0 and appends at DELAY, worker 2 decides at DELAY/2 on the same state (worker 1 has not appended yet) and appends
at 1.5*DELAY: every time, not by chance. Only appending at the version the decision was made on
(ConcurrencyError, retry, 409) keeps one decision; re-reading the version at append time lets both in.

They failed on the code before issue 9 (two association requests, two decisions, two `marked_operational`);
after each race the log must verify and replay to the live tables.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from _server_helpers import Client, make_benchmark, make_container, make_dataset, server_database

from medperf_core.domain.associations import stream_name
from medperf_core.server.storage import open_server_storage
from medperf_core.testing.races import HttpCall, HttpOutcome, race_http
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, start_server

DELAY = 0.6


@attrs.frozen
class Racers:
    """Where racing requests go: two (server, worker pid) pairs, either two workers of one server or two servers."""

    servers: list[ServerProcess]
    targets: list[tuple[ServerProcess, int]]

    @property
    def first(self) -> ServerProcess:
        return self.servers[0]

    @property
    def where(self) -> str | Path:
        return self.first.where


SETUPS = ("sqlite-2-workers", "postgresql-2-workers", "postgresql-2-servers")


@pytest.fixture(scope="module", params=SETUPS)
def racy_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Racers]:
    kind, _, shape = request.param.partition("-")
    data_dir = tmp_path_factory.mktemp(f"race-{request.param}")
    home = tmp_path_factory.mktemp("race-server-home")
    env = {"MEDPERF_HOME": str(home), "MEDPERF_SERVER_DECISION_DELAY": str(DELAY)}
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(server_database(kind))
        if shape == "2-workers":
            running = stack.enter_context(start_server(data_dir, env=env, workers=2, database=database))
            assert len(running.worker_pids) == 2, running.worker_pids
            racers = Racers([running], [(running, pid) for pid in running.worker_pids])
        else:  # two server processes sharing nothing but the database (and the data dir's auth secret)
            servers = [stack.enter_context(start_server(data_dir, env=env, database=database)) for _ in range(2)]
            racers = Racers(servers, [(s, s.process.pid) for s in servers])
        yield racers
    for running in racers.servers:
        assert "Traceback" not in running.log(), running.log()[-3000:]


@pytest.fixture(scope="module")
def role(racy_server: Racers) -> dict[str, Client]:
    return {r: Client(racy_server.first, r) for r in ("admin", "bo", "do")}


def race(
    racers: Racers, role: str, calls: list[tuple[str, str, dict[str, object]]], headers: dict[str, str] | None = None
) -> list[HttpOutcome]:
    """Each (method, path, body) from its own client process as `role`, alternating between the two workers (or
    servers); the second one's racers start DELAY/2 later."""
    outcomes = race_http(
        [
            HttpCall(
                method,
                f"{racers.targets[i % 2][0].api}{path}",
                racers.targets[i % 2][0].token(DEMO_EMAILS[role]),
                body,
                worker=racers.targets[i % 2][1],
                after=DELAY / 2 * (i % 2),
                headers=headers or {},
            )
            for i, (method, path, body) in enumerate(calls)
        ]
    )
    assert {o.served_by for o in outcomes} == {pid for _, pid in racers.targets}, "both must take part"
    assert len({o.client_pid for o in outcomes} | {os.getpid()}) == len(calls) + 1, "one process per client"
    assert not [o for o in outcomes if o.status == 0 or o.status >= 500], outcomes
    return outcomes


def events_of(racers: Racers, stream: str) -> list[str]:
    """The event types of one stream, read from the server's log while it runs; the log must verify and its
    replay (without touching the live tables) must equal them."""
    with open_server_storage(racers.where, audit=True).store as store:
        report = store.verify()
        assert report.ok, report.summary()
        replayed = store.replay(rebuild=False)
        assert replayed.equal, [t for t in replayed.tables if not t.equal]
        return [e.type for e in store.read_all() if e.stream == stream]


def operational_dataset(role: dict[str, Client]) -> tuple[int, int]:
    benchmark = make_benchmark(role["bo"], state="OPERATION", approved_by=role["admin"])
    dataset = make_dataset(role["do"], benchmark["data_preparation_mlcube"])
    return dataset["id"], benchmark["id"]


def test_concurrent_association_requests_create_one(racy_server: Racers, role: dict[str, Client]) -> None:
    d, b = operational_dataset(role)
    body = {"dataset": d, "benchmark": b, "approval_status": "PENDING", "metadata": {"test_result": {}}}
    outcomes = race(racy_server, "do", [("POST", "/datasets/benchmarks/", body)] * 20)
    events = events_of(racy_server, stream_name("dataset", b, d))
    assert {
        "statuses": sorted(o.status for o in outcomes),
        "association.requested events": events.count("association.requested"),
    } == {"statuses": [201] + [409] * 19, "association.requested events": 1}


def test_concurrent_approve_and_reject_one_decision(racy_server: Racers, role: dict[str, Client]) -> None:
    d, b = operational_dataset(role)
    role["do"].ok(
        "POST",
        "/datasets/benchmarks/",
        {"dataset": d, "benchmark": b, "approval_status": "PENDING", "metadata": {"test_result": {}}},
    )
    path = f"/datasets/{d}/benchmarks/{b}/"
    outcomes = race(
        racy_server,
        "bo",
        [("PUT", path, {"approval_status": "APPROVED"}), ("PUT", path, {"approval_status": "REJECTED"})],
    )
    events = events_of(racy_server, stream_name("dataset", b, d))
    decisions = [e for e in events if e in ("association.approved", "association.rejected")]
    assert {"statuses": sorted(o.status for o in outcomes), "decision events": decisions} == {
        "statuses": [200, 409],
        "decision events": decisions[:1],
    }
    winner = next(o for o in outcomes if o.status == 200)
    final = role["bo"].ok("GET", path)["approval_status"]
    assert final == ("APPROVED" if '"APPROVED"' in winner.text else "REJECTED")
    assert {"association.approved": "APPROVED", "association.rejected": "REJECTED"}[decisions[0]] == final


def test_concurrent_set_operational_marks_once(racy_server: Racers, role: dict[str, Client]) -> None:
    benchmark = make_benchmark(role["bo"])
    dataset = make_dataset(role["do"], benchmark["data_preparation_mlcube"], operational=False)
    body = {
        "input_data_hash": dataset["input_data_hash"],
        "generated_uid": uuid.uuid4().hex,
        "generated_metadata": {"n": 3},
        "state": "OPERATION",
    }
    outcomes = race(racy_server, "do", [("PUT", f"/datasets/{dataset['id']}/", body)] * 2)
    events = Counter(events_of(racy_server, f"dataset-{dataset['id']}"))
    statuses = sorted(o.status for o in outcomes)
    assert events["dataset.marked_operational"] == 1, f"statuses {statuses}, events {dict(events)}"
    assert role["do"].ok("GET", f"/datasets/{dataset['id']}/")["state"] == "OPERATION"


def test_workers_are_processes_that_share_writes(tmp_path: Path) -> None:
    """`--workers 2`: two server processes (children of the one started) answer, and each reads what the other
    wrote."""
    with start_server(tmp_path / "data", env={"MEDPERF_HOME": str(tmp_path / "home")}, workers=2) as server:
        first, second = server.worker_pids
        assert first != second and server.process.pid not in (first, second)
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        if children.exists():
            assert {first, second} <= {int(p) for p in children.read_text().split()}
        do_token = server.token(DEMO_EMAILS["do"])
        prep = make_container(Client(server, "bo"))
        for writer, reader in ((first, second), (second, first)):
            raw = uuid.uuid4().hex
            [created] = race_http(
                [
                    HttpCall(
                        "POST",
                        f"{server.api}/datasets/",
                        do_token,
                        {
                            "name": f"ds-{raw[:8]}",
                            "input_data_hash": raw,
                            "generated_uid": raw,
                            "data_preparation_mlcube": prep["id"],
                        },
                        worker=writer,
                    )
                ]
            )
            assert (created.status, created.served_by) == (201, writer), created
            dataset_id = json.loads(created.text)["id"]
            [read] = race_http([HttpCall("GET", f"{server.api}/datasets/{dataset_id}/", do_token, worker=reader)])
            assert (read.status, read.served_by) == (200, reader), read
            assert json.loads(read.text)["input_data_hash"] == raw


def test_concurrent_retries_with_one_key_create_one_dataset(racy_server: Racers, role: dict[str, Client]) -> None:
    """Both racers decide on the same state with the same Idempotency-Key: one dataset, both answers 201 with it."""
    benchmark = make_benchmark(role["bo"])
    raw = uuid.uuid4().hex
    body = {"name": f"retried-{raw[:8]}", "input_data_hash": raw, "generated_uid": raw,
            "data_preparation_mlcube": benchmark["data_preparation_mlcube"]}
    outcomes = race(racy_server, "do", [("POST", "/datasets/", body)] * 2, {"Idempotency-Key": str(uuid.uuid4())})
    assert [o.status for o in outcomes] == [201, 201], outcomes
    assert len({json.loads(o.text)["id"] for o in outcomes}) == 1
    named = [d for d in role["do"].ok("GET", "/me/datasets/?limit=1000")["results"] if d["name"] == body["name"]]
    assert len(named) == 1
