"""Local results: list, view, and submit (metrics only, once)."""

from __future__ import annotations

from typing import Any

from medperf_core.domain import executions as machine
from medperf_core.domain import streams
from medperf_core.errors import ConflictError, NotFoundError
from medperf_core.services.client import Client
from medperf_core.services.execution import local_execution


def list_local(client: Client, benchmark: int | None = None) -> list[dict[str, Any]]:
    return client.local.executions(benchmark)


def get_local(client: Client, uid: str) -> dict[str, Any]:
    row = local_execution(client, uid)
    if row is None:
        raise NotFoundError(f"no local result {uid!r}", "list them with: medperf result ls")
    return row


def plan_submission(client: Client, uid: str) -> dict[str, Any]:
    client.flush_pending()
    if client.waiting("result.submit", uid=uid):
        raise ConflictError(f"result {uid} is already submitted and waits to be sent to the server",
                            "send it with: medperf sync")
    row = get_local(client, uid)
    if row["state"] == "submitted":
        from medperf_core.services import outbox

        answer = outbox.earlier_attempt(client, "result.submit", uid=uid)
        if answer is not None:
            raise outbox.went_through(f"result {uid} submitted (server UID {answer.get('id')})")
    events, _ = client.store.load(streams.execution(uid))
    machine.submit(machine.fold(events), result_id=0, owner=0)  # refuses early: unfinished or already submitted
    return {"name": uid, "benchmark": row["benchmark"], "model": row["model"], "dataset": row["dataset"],
            "results": row["metrics"], "metadata": {"partial": False}, "approval_status": "PENDING"}


def submit(client: Client, uid: str, body: dict[str, Any]) -> dict[str, Any]:
    events, _version = client.store.load(streams.execution(uid))
    current = machine.fold(events)
    machine.submit(current, result_id=0, owner=0)  # refuses before anything is sent
    from medperf_core.services import outbox

    return outbox.send(client, "result.submit", body, {"uid": uid})
