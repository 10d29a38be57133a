"""Benchmark–dataset and benchmark–model associations: requested by the entity's owner, decided by the benchmark's."""

from __future__ import annotations

from medperf_core.domain import associations as domain
from medperf_core.domain import benchmarks, policies, streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import AssociationPrioritySet, DomainEvent
from medperf_core.domain.resources import ASSOCIATIONS, BENCHMARK, DECISION
from medperf_core.endpoints import endpoint
from medperf_core.errors import (
    FieldError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    UserError,
)
from medperf_core.server.services.benchmarks import BenchmarkService
from medperf_core.server.services.containers import ContainerService
from medperf_core.server.services.datasets import DatasetService
from medperf_core.server.services.fields import clean
from medperf_core.server.services.idempotency import Claim
from medperf_core.server.services.writer import Writer
from medperf_core.store.server_read_model import Json, Page, ServerReadModel

ENTITY_FIELD = {"dataset": "dataset", "model": "model_mlcube"}


class AssociationService:
    def __init__(
        self,
        reads: ServerReadModel,
        writer: Writer,
        datasets: DatasetService,
        containers: ContainerService,
        benchmarks: BenchmarkService,
    ) -> None:
        self.reads = reads
        self.writer = writer
        self.datasets = datasets
        self.containers = containers
        self.benchmarks = benchmarks

    def _entity(self, caller: Caller, kind: str, entity_id: int) -> Json:
        if kind == "dataset":
            return self.datasets.get(caller, entity_id)
        return self.containers.get(caller, entity_id)

    def latest(self, kind: str, entity_id: int, benchmark_id: int) -> Json | None:
        return self.reads.find(ASSOCIATIONS[kind], **{ENTITY_FIELD[kind]: entity_id, "benchmark": benchmark_id})

    def request(self, caller: Caller, kind: str, body: Json, key: str | None = None) -> Json:
        """A request decided on the association's stream and the benchmark's (whose events hold its policy), both
        appended at the versions loaded: a policy changed meanwhile makes the Writer decide again."""
        column = ENTITY_FIELD[kind]
        operation = endpoint(f"request_{kind}_association").operation()
        claim = Claim.of(key, caller.id, operation, body) if key else None
        first = self.writer.first_answer(claim)
        if first is not None:
            return self.get(caller, kind, int(first["entity"]), int(first["benchmark"]))
        data = clean(body, ASSOCIATIONS[kind], creating=True)
        entity_id, benchmark_id = data[column], data["benchmark"]
        association = domain.stream_name(kind, benchmark_id, entity_id)
        benchmark_stream = streams.benchmark(benchmark_id)

        def decide(loaded: dict[str, list[DomainEvent]]) -> dict[str, list[DomainEvent]]:
            entity = self._entity(caller, kind, entity_id)
            benchmark = self.benchmarks.get(caller, benchmark_id)
            if entity["owner"] != caller.id:
                raise PermissionDeniedError(f"only the owner of {kind} {entity_id} can associate it")
            if kind == "dataset" and entity["state"] != "OPERATION":
                raise UserError(
                    f"dataset {entity_id} is not operational",
                    f"run: medperf dataset set_operational --data_uid {entity_id}",
                )
            if kind == "model" and entity["state"] != "OPERATION":
                raise InvalidTransitionError(
                    f"container {entity_id} is in development; only operational models join a benchmark",
                    "register the model with: medperf container submit ... --operational",
                )
            if benchmark["approval_status"] != "APPROVED":
                raise InvalidTransitionError(
                    f"benchmark {benchmark_id} is {benchmark['approval_status'].lower()}, not approved",
                    "wait until an admin approves it (medperf benchmark ls shows its approval status)",
                )
            events = loaded[association]
            requested = domain.request(
                domain.fold(events), kind=kind, benchmark=benchmark_id, entity=entity_id,
                initiated_by=caller.id, metadata=data.get("metadata"),
            )
            new: list[DomainEvent] = [requested]
            if benchmark["owner"] == caller.id:  # the benchmark owner asking: approved at once
                new.append(domain.approve(
                    domain.fold([*events, requested]), kind=kind, benchmark=benchmark_id, entity=entity_id,
                    by=caller.id,
                ))
            else:
                by_policy = policies.auto_approval(
                    policies.fold(loaded[benchmark_stream]), kind=kind, benchmark=benchmark_id, entity=entity_id,
                    requester=caller,
                )
                if by_policy is not None:
                    new.append(by_policy)
            return {association: new}

        self.writer.decide_many([association, benchmark_stream], decide, caller.actor, claim,
                                {"kind": kind, "entity": entity_id, "benchmark": benchmark_id})
        return self._decided(kind, entity_id, benchmark_id)

    def get(self, caller: Caller, kind: str, entity_id: int, benchmark_id: int) -> Json:
        entity = self._entity(caller, kind, entity_id)
        benchmark = self.benchmarks.get(caller, benchmark_id)
        found = self.latest(kind, entity_id, benchmark_id)
        if found is None:
            raise NotFoundError(f"{kind} {entity_id} has no association with benchmark {benchmark_id}")
        if kind == "dataset" and not (caller.is_staff or caller.id in (entity["owner"], benchmark["owner"])):
            raise NotFoundError(f"dataset {entity_id} not found")
        return found

    def update(
        self, caller: Caller, kind: str, entity_id: int, benchmark_id: int, body: Json, key: str | None = None
    ) -> Json:
        """With `key` (an Idempotency-Key) the decision is made once: the same key again answers with the row."""
        operation = endpoint(f"decide_{kind}_association").operation(entity_id, benchmark_id)
        claim = Claim.of(key, caller.id, operation, body) if key else None
        if self.writer.first_answer(claim) is not None:
            return self.get(caller, kind, entity_id, benchmark_id)
        data = clean(body, DECISION)
        if not data:
            raise UserError("nothing to change", "send approval_status (APPROVED or REJECTED) or priority")

        def decide(events: list[DomainEvent]) -> list[DomainEvent]:
            # Who may decide first: it depends on the benchmark alone, so the answer names who may decide instead of
            # "dataset N not found" (and tells nothing about a dataset the caller may not see).
            benchmark = BENCHMARK.cls(**self.benchmarks.get(caller, benchmark_id))
            if not benchmarks.may_decide_association(benchmark, caller, kind):
                who = "or an admin " if kind == "dataset" else ""
                raise PermissionDeniedError(
                    f"only the owner of benchmark {benchmark_id} {who}can decide its {kind} associations",
                    "ask the benchmark's owner",
                )
            self.get(caller, kind, entity_id, benchmark_id)
            current = domain.fold(events)
            new: list[DomainEvent] = []
            status = data.get("approval_status")
            if status is not None and (current is None or status != current.status.value):
                decision = domain.approve if status == "APPROVED" else domain.reject
                new.append(decision(current, kind=kind, benchmark=benchmark_id, entity=entity_id, by=caller.id))
            if "priority" in data and kind != "model":
                raise FieldError("priority", "priority: only model associations have a priority")
            if "priority" in data and (current is None or data["priority"] != current.priority):
                new.append(AssociationPrioritySet(
                    kind=kind, benchmark=benchmark_id, entity=entity_id, priority=data["priority"]
                ))
            return new

        self.writer.decide(domain.stream_name(kind, benchmark_id, entity_id), decide, caller.actor, claim,
                           {"kind": kind, "entity": entity_id, "benchmark": benchmark_id})
        return self._decided(kind, entity_id, benchmark_id)

    def _decided(self, kind: str, entity_id: int, benchmark_id: int) -> Json:
        """The association a decision just appended to (gone only if the log was replaced meanwhile)."""
        found = self.latest(kind, entity_id, benchmark_id)
        if found is None:
            raise NotFoundError(f"{kind} {entity_id} has no association with benchmark {benchmark_id}")
        return found

    def mine(self, caller: Caller, kind: str, limit: int | None = None, offset: int = 0) -> Page:
        return self.reads.associations_of_owner(kind, caller.id, limit, offset)

    def of_benchmark(
        self, caller: Caller, kind: str, benchmark_id: int, limit: int | None = None, offset: int = 0
    ) -> Page:
        """Model rows are public to signed-in users (the data owner's run needs them); dataset rows are not."""
        benchmark = self.benchmarks.get(caller, benchmark_id)
        if kind == "dataset" and not (caller.is_staff or caller.id == benchmark["owner"]):
            raise PermissionDeniedError(f"only the owner of benchmark {benchmark_id} can list its datasets")
        return self.reads.list(ASSOCIATIONS[kind], limit, offset, benchmark=benchmark_id)

