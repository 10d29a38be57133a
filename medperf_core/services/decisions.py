"""The owners' and admins' decisions on the server: association approvals, model priorities, benchmark approvals,
association policies. Each is recorded in this machine's log before it is sent (services/outbox.py), so a command
killed after the server decided is finished by the next command or `medperf sync`, and the decision is made once."""

from __future__ import annotations

from typing import Any

from medperf_core.services import outbox
from medperf_core.services.client import Client

Row = dict[str, Any]


def decide_association(client: Client, kind: str, benchmark_id: int, entity_id: int, status: str) -> Row:
    """The benchmark owner approves or rejects a dataset's or a model's request (the server enforces who may)."""
    client.flush_pending()
    return outbox.send(client, "association.decision", {"approval_status": status},
                       {"kind": kind, "benchmark": benchmark_id, "entity": entity_id})


def set_priority(client: Client, benchmark_id: int, model_id: int, priority: int) -> Row:
    client.flush_pending()
    return outbox.send(client, "association.priority", {"priority": priority},
                       {"kind": "model", "benchmark": benchmark_id, "entity": model_id})


def decide_benchmark(client: Client, benchmark_id: int, status: str) -> Row:
    """An admin approves or rejects a benchmark."""
    client.flush_pending()
    return outbox.send(client, "benchmark.approval", {"approval_status": status}, {"benchmark": benchmark_id})


def set_policy(client: Client, benchmark_id: int, body: Row) -> Row:
    """The benchmark owner's auto-approval policy."""
    client.flush_pending()
    return outbox.send(client, "benchmark.policy", body, {"benchmark": benchmark_id})
