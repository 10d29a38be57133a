"""Many clients update one entity at once (issue 24's lost requests, issue 30's same-entity updates).

Every request is answered, on SQLite and PostgreSQL, with one worker and two: before the fix, on PostgreSQL about one
update in eight was never answered (a group commit retried append by append applied the appends' projections a
second time with a used-up counter; the StopIteration raised in the request's thread could not be put into the
awaiting Future). An update whose decision does not depend on the entity's state (a description) is never refused
because others wrote first: each one is applied, the last one wins, as on MedPerf's server. An update that depends
on the state (an association's approval or rejection) keeps exactly-one-wins.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from _server_helpers import Client, make_benchmark, make_dataset, server_database

from medperf_core.domain.associations import stream_name
from medperf_core.domain.streams import dataset as dataset_stream
from medperf_core.server.storage import open_server_storage
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, start_server

CLIENTS = 50
SETUPS = ("sqlite-1", "sqlite-2", "postgresql-1", "postgresql-2")


@pytest.fixture(scope="module", params=SETUPS)
def busy_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    kind, _, workers = request.param.partition("-")
    data_dir = tmp_path_factory.mktemp(f"same-entity-{request.param}")
    home = tmp_path_factory.mktemp("same-entity-home")
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(server_database(kind))
        running = stack.enter_context(
            start_server(data_dir, env={"MEDPERF_HOME": str(home)}, workers=int(workers), database=database)
        )
        yield running
        log = running.log()
    assert "Traceback" not in log, log[-3000:]
    assert "StopIteration" not in log, log[-3000:]


def at_once(server: ServerProcess, role: str, calls: list[tuple[str, str, dict[str, object]]]) -> list[int]:
    """Each call from its own connection, all released together; the status of each (0: no answer in 60 s)."""
    token = server.token(DEMO_EMAILS[role])
    start = threading.Barrier(len(calls))

    def send(call: tuple[str, str, dict[str, object]]) -> int:
        method, path, body = call
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            session.get(f"{server.api}/me/", timeout=30)  # the connection is open before the start
            start.wait()
            try:
                return session.request(method, f"{server.api}{path}", json=body, timeout=60).status_code
            except requests.RequestException:
                return 0

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def stream_events(server: ServerProcess, stream: str) -> list[str]:
    """The event types of one stream; the log must verify."""
    with open_server_storage(server.where, audit=True).store as store:
        report = store.verify()
        assert report.ok, report.summary()
        return [e.type for e in store.read_all() if e.stream == stream]


def test_every_concurrent_update_of_one_dataset_is_answered_and_applied(busy_server: ServerProcess) -> None:
    bo, do = Client(busy_server, "bo"), Client(busy_server, "do")
    benchmark = make_benchmark(bo)
    dataset = make_dataset(do, benchmark["data_preparation_mlcube"], operational=False)
    path = f"/datasets/{dataset['id']}/"
    sent = [f"description {i}" for i in range(CLIENTS)]

    statuses = at_once(busy_server, "do", [("PUT", path, {"description": text}) for text in sent])

    assert sorted(statuses) == [200] * CLIENTS, sorted(statuses)
    assert do.ok("GET", path)["description"] in sent
    updates = stream_events(busy_server, dataset_stream(dataset["id"])).count("dataset.updated")
    assert updates == CLIENTS


def test_concurrent_decisions_on_one_association_are_answered_and_one_wins(busy_server: ServerProcess) -> None:
    admin, bo, do = (Client(busy_server, r) for r in ("admin", "bo", "do"))
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=admin)
    dataset = make_dataset(do, benchmark["data_preparation_mlcube"])
    do.ok("POST", "/datasets/benchmarks/", {"dataset": dataset["id"], "benchmark": benchmark["id"],
                                            "approval_status": "PENDING", "metadata": {"test_result": {}}})
    path = f"/datasets/{dataset['id']}/benchmarks/{benchmark['id']}/"
    decisions = ["APPROVED" if i % 2 else "REJECTED" for i in range(CLIENTS)]

    statuses = at_once(busy_server, "bo", [("PUT", path, {"approval_status": d}) for d in decisions])

    assert 0 not in statuses and not [s for s in statuses if s >= 500], sorted(statuses)
    events = stream_events(busy_server, stream_name("dataset", benchmark["id"], dataset["id"]))
    decided = [e for e in events if e in ("association.approved", "association.rejected")]
    assert len(decided) == 1, events
    final = do.ok("GET", path)["approval_status"]
    assert final == ("APPROVED" if decided == ["association.approved"] else "REJECTED")
    # one decision is taken: asking for it again is answered 200 (it holds), asking for the other is refused
    assert statuses.count(200) == decisions.count(final), sorted(statuses)
    assert set(statuses) - {200} <= {400, 409}, sorted(statuses)


def test_an_unanswerable_request_is_answered_500(tmp_path: Path) -> None:
    """The thread-pool wrapper answers a StopIteration raised by the work as an error, not never."""
    import asyncio

    from medperf_core.server.http import answered_in_thread

    def endpoint() -> dict[str, object]:
        raise StopIteration

    wrapped = answered_in_thread(endpoint, 200)

    async def call() -> object:
        return await asyncio.wait_for(wrapped(), timeout=5)

    with pytest.raises(RuntimeError, match="StopIteration"):
        asyncio.run(call())
