"""Intent first: every write to the server is recorded in the client's log as a pending request (with a
client-generated idempotency key) before it is sent, and as done, together with its local consequences, after.

A command killed anywhere leaves either nothing sent, or a pending request that the next command (any command
that talks to the server, or `medperf sync`) sends again with the same key: the server answers with what the first
attempt created, and the local log catches up. Offline, requests simply stay pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import attrs

from medperf_core.domain import associations as association_machine
from medperf_core.domain import datasets as dataset_machine
from medperf_core.domain import events as ev
from medperf_core.domain import executions as execution_machine
from medperf_core.domain import streams
from medperf_core.errors import AlreadyDone, AuthenticationError, ConcurrencyError, MedperfError, ServerError
from medperf_core.services.client import Client
from medperf_core.store.store import Append

Json = dict[str, Any]
Say = Callable[[str], None]


@attrs.frozen
class Operation:
    """How to send one kind of request, and what it means locally once the server has accepted it."""

    describe: Callable[[Json, Json], str]
    send: Callable[[Client, Json, Json, str], Json]
    consequences: Callable[[Client, Json, Json, Json], list[Append]]


# --- the operations ---------------------------------------------------------------------------------------------


def _dataset_created(client: Client, body: Json, context: Json, answer: Json) -> list[Append]:
    dataset_id = int(answer["id"])
    stream = streams.dataset(dataset_id)
    events, version = client.store.load(stream)
    if dataset_machine.fold(events) is not None:
        return []  # already known here (e.g. reconciled by `medperf sync` meanwhile)
    return [Append(stream, version, [ev.DatasetRegistered(
        dataset_id=dataset_id, name=body["name"], owner=int(answer["owner"]), description=body.get("description", ""),
        location=body.get("location", ""), input_data_hash=body["input_data_hash"],
        generated_uid=body["generated_uid"], data_preparation_mlcube=int(body["data_preparation_mlcube"]),
        benchmark=context.get("benchmark"), data_path=context.get("data_path"), labels_path=context.get("labels_path"),
    )])]


def _dataset_operational(client: Client, body: Json, context: Json, answer: Json) -> list[Append]:
    dataset_id = int(context["dataset"])
    stream = streams.dataset(dataset_id)
    events, version = client.store.load(stream)
    current = dataset_machine.fold(events)
    if current is None or current.is_operational:
        return []
    event = dataset_machine.mark_operational(current, generated_uid=body["generated_uid"],
                                             statistics=body["generated_metadata"], require_prepared=False)
    return [Append(stream, version, [event])]


def _association_requested(client: Client, body: Json, context: Json, answer: Json) -> list[Append]:
    benchmark, dataset = int(context["benchmark"]), int(context["dataset"])
    stream = association_machine.stream_name("dataset", benchmark, dataset)
    events, version = client.store.load(stream)
    if association_machine.fold(events) is not None:
        return []
    new: list[ev.DomainEvent] = [ev.AssociationRequested(
        kind="dataset", benchmark=benchmark, entity=dataset, initiated_by=int(answer.get("initiated_by") or 0),
        metadata=body.get("metadata", {}),
    )]
    new += decision_events("dataset", benchmark, dataset, answer)
    return [Append(stream, version, new)]


def decision_events(kind: str, benchmark: int, entity: int, row: Json) -> list[ev.DomainEvent]:
    """The approval or rejection a server row shows (none while it is pending)."""
    status = row.get("approval_status")
    if status == "APPROVED":
        return [ev.AssociationApproved(kind=kind, benchmark=benchmark, entity=entity,
                                       approved_by=int(row.get("approved_by") or 0))]
    if status == "REJECTED":
        return [ev.AssociationRejected(kind=kind, benchmark=benchmark, entity=entity,
                                       rejected_by=int(row.get("rejected_by") or 0))]
    return []


def _result_submitted(client: Client, body: Json, context: Json, answer: Json) -> list[Append]:
    uid = str(context["uid"])
    stream = streams.execution(uid)
    events, version = client.store.load(stream)
    current = execution_machine.fold(events)
    if current is None or current.state is not execution_machine.ExecutionState.FINISHED:
        return []  # submitted already (reconciled meanwhile), or run again since: the server's answer stays above
    return [Append(stream, version, [execution_machine.submit(current, result_id=int(answer["id"]),
                                                              owner=int(answer.get("owner") or 0))])]


def _nothing_more(client: Client, body: Json, context: Json, answer: Json) -> list[Append]:
    return []


def _decide_association(client: Client, body: Json, context: Json, key: str) -> Json:
    benchmark, entity, status = int(context["benchmark"]), int(context["entity"]), str(body["approval_status"])
    if context["kind"] == "dataset":
        return client.backend.decide_dataset_association(entity, benchmark, {"approval_status": status}, key)
    return client.backend.decide_model_association(entity, benchmark, {"approval_status": status}, key)


OPERATIONS: dict[str, Operation] = {
    "dataset.create": Operation(
        describe=lambda body, ctx: f"registration of dataset {body.get('name')!r}",
        send=lambda client, body, ctx, key: client.backend.create_dataset(body, key),
        consequences=_dataset_created,
    ),
    "dataset.operational": Operation(
        describe=lambda body, ctx: f"dataset {ctx['dataset']} set operational",
        send=lambda client, body, ctx, key: client.backend.update_dataset(int(ctx["dataset"]), body, key),
        consequences=_dataset_operational,
    ),
    "association.request": Operation(
        describe=lambda body, ctx: f"association of dataset {ctx['dataset']} with benchmark {ctx['benchmark']}",
        send=lambda client, body, ctx, key: client.backend.request_dataset_association(
            {"dataset": int(ctx["dataset"]), "benchmark": int(ctx["benchmark"]), "metadata": body.get("metadata", {}),
             "approval_status": "PENDING"}, key),
        consequences=_association_requested,
    ),
    "result.submit": Operation(
        describe=lambda body, ctx: f"result {ctx['uid']}",
        send=lambda client, body, ctx, key: client.backend.submit_result(body, key),
        consequences=_result_submitted,
    ),
    # The owners' writes: what they change lives on the server only, so the answer (in `request.done`) is all this
    # machine records of them.
    "container.create": Operation(
        describe=lambda body, ctx: f"registration of container {body.get('name')!r}",
        send=lambda client, body, ctx, key: client.backend.create_container(body, key),
        consequences=_nothing_more,
    ),
    "benchmark.create": Operation(
        describe=lambda body, ctx: f"registration of benchmark {body.get('name')!r}",
        send=lambda client, body, ctx, key: client.backend.create_benchmark(body, key),
        consequences=_nothing_more,
    ),
    "benchmark.approval": Operation(
        describe=lambda body, ctx: f"benchmark {ctx['benchmark']} {str(body.get('approval_status')).lower()}",
        send=lambda client, body, ctx, key: client.backend.update_benchmark(int(ctx["benchmark"]), body, key),
        consequences=_nothing_more,
    ),
    "benchmark.policy": Operation(
        describe=lambda body, ctx: f"association policy of benchmark {ctx['benchmark']}",
        send=lambda client, body, ctx, key: client.backend.update_association_policy(int(ctx["benchmark"]), body,
                                                                                     key),
        consequences=_nothing_more,
    ),
    "model_association.request": Operation(
        describe=lambda body, ctx: f"association of model {ctx['model']} with benchmark {ctx['benchmark']}",
        send=lambda client, body, ctx, key: client.backend.request_model_association(
            {"model_mlcube": int(ctx["model"]), "benchmark": int(ctx["benchmark"]),
             "metadata": body.get("metadata", {}), "approval_status": "PENDING"}, key),
        consequences=_nothing_more,
    ),
    "association.decision": Operation(
        describe=lambda body, ctx: f"{str(body.get('approval_status')).lower()} association of {ctx['kind']} "
        f"{ctx['entity']} with benchmark {ctx['benchmark']}",
        send=lambda client, body, ctx, key: _decide_association(client, body, ctx, key),
        consequences=_nothing_more,
    ),
    "association.priority": Operation(
        describe=lambda body, ctx: f"priority {body.get('priority')} of model {ctx['entity']} in benchmark "
        f"{ctx['benchmark']}",
        send=lambda client, body, ctx, key: client.backend.decide_model_association(
            int(ctx["entity"]), int(ctx["benchmark"]), {"priority": int(body["priority"])}, key),
        consequences=_nothing_more,
    ),
}


# --- sending ----------------------------------------------------------------------------------------------------


class Pending(ServerError):
    """The request is recorded and will be sent later (the server is unreachable, or the client is offline)."""

    exit_code = 8


def send(client: Client, operation: str, body: Json, context: Json | None = None) -> Json:
    """Record the request, send it, record the answer with its local consequences; the server's answer.

    Offline or unreachable: raises `Pending` (the request stays in the log for `medperf sync`). Refused by the
    server: the request is recorded as failed and the server's error is raised."""
    key = str(uuid.uuid4())
    context = {**(context or {}), "by": client.actor}  # the server scopes keys to the user: only they may resend
    client.record(streams.request(key), 0, ev.RequestPending(key=key, operation=operation, body=body, context=context))
    return _deliver(client, key, operation, body, context)


def send_once(client: Client, operation: str, body: Json, context: Json | None = None) -> tuple[Json, bool]:
    """`send`, unless this machine already sent the very same request and the server accepted it (a command run
    again after it was killed once the server had answered): (the server's answer, whether it was sent now).

    Only for registrations, which never mean the same thing twice (their names are unique on the server)."""
    client.flush_pending()
    context = {**(context or {}), "by": client.actor}
    for row in reversed(client.local.requests()):
        if row["operation"] != operation or row["body"] != body or row["context"] != context:
            continue
        if row["state"] == "done":
            return dict(row["answer"]), False
        if row["state"] == "pending":
            what = OPERATIONS[operation].describe(body, row["context"])
            raise Pending(f"the {what} is recorded and waits to be sent", "send it with: medperf sync")
    return send(client, operation, body, context), True


def _deliver(client: Client, key: str, operation: str, body: Json, context: Json) -> Json:
    op = OPERATIONS[operation]
    what = op.describe(body, context)
    if client.offline:
        raise Pending(f"offline: the {what} is recorded and waits", "send it later with: medperf sync")
    try:
        answer = op.send(client, body, context, key)
    except AuthenticationError:
        raise  # not an answer about the request: it stays pending until the user logs in again
    except ServerError as e:  # unreachable or a 5xx: nothing known, so the request stays pending
        raise Pending(f"the {what} was not confirmed by the server ({e.message})",
                      "it is recorded; re-run the command or `medperf sync` to send it again") from e
    except MedperfError as e:
        client.record(streams.request(key), 1, ev.RequestFailed(key=key, operation=operation, error=e.one_line()))
        raise
    for _ in range(8):
        appends = [*op.consequences(client, body, context, answer),
                   Append(streams.request(key), 1, [ev.RequestDone(key=key, operation=operation, answer=answer)])]
        try:
            client.store.append_all(appends, client.actor)
            return answer
        except ConcurrencyError:
            if _finished(client, key):
                return answer
            continue
    raise ConcurrencyError(f"the local log kept changing while recording the {what}",
                           "another medperf command runs on this machine; wait for it and re-run this one")


def _finished(client: Client, key: str) -> bool:
    events, _ = client.store.load(streams.request(key))
    return len(events) > 1


def earlier_attempt(client: Client, operation: str, **context: Any) -> Json | None:
    """The server's answer when an earlier attempt of this very request (a command killed after sending it) was
    left pending and this command has just sent it again: the server had it, or has it now, so the work is done.
    None when no such request was sent by this command."""
    client.flush_pending()
    for row in client.delivered:
        if row["operation"] == operation and all(row["context"].get(k) == v for k, v in context.items()):
            return dict(row["answer"] or {})
    return None


def went_through(what: str) -> AlreadyDone:
    return AlreadyDone(f"the earlier attempt had already gone through: {what}")


def pending(client: Client) -> list[Json]:
    return client.local.requests("pending")


def finish_pending(client: Client, say: Say | None = None) -> list[tuple[Json, str]]:
    """Send every pending request again with its key, oldest first; (request, outcome) for each.

    Stops at the first that cannot reach the server (the others would not either)."""
    outcomes: list[tuple[Json, str]] = []
    for row in pending(client):
        what = OPERATIONS[row["operation"]].describe(row["body"], row["context"])
        by = row["context"].get("by")
        if by is not None and by != client.actor:  # its key means something only to the user who sent it
            outcomes.append((row, f"still pending: the {what} waits for {by} to log in (medperf auth login -e "
                                  f"{by}), then `medperf sync`"))
            if say is not None:
                say(f"  {outcomes[-1][1]}")
            continue
        try:
            answer = _deliver(client, row["key"], row["operation"], row["body"], row["context"])
        except (Pending, AuthenticationError) as e:
            outcomes.append((row, f"still pending: {e.one_line()}"))
            if say is not None:
                say(f"  {outcomes[-1][1]}")
            break
        except MedperfError as e:
            outcomes.append((row, f"refused: {e.one_line()}"))
        else:
            outcomes.append((row, f"sent: {what} (server id {answer.get('id')})"))
            client.delivered.append({**row, "answer": answer})
        if say is not None:
            say(f"  {outcomes[-1][1]}")
    return outcomes
