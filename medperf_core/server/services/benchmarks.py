"""Benchmarks: registered by anyone, changed by their owner, approved by admins; containers frozen once OPERATION."""

from __future__ import annotations

from medperf_core.domain import associations
from medperf_core.domain.events import (
    AssociationApproved,
    BenchmarkApprovalChanged,
    BenchmarkMarkedOperational,
    BenchmarkRegistered,
    BenchmarkUpdated,
    DomainEvent,
)
from medperf_core.errors import InvalidTransitionError, PermissionDeniedError, UserError
from medperf_core.server.services.base import (
    Caller,
    FieldConflictError,
    FieldError,
    Json,
    Page,
    ServiceBase,
    changed,
    clean,
)

CONTAINER_ROLES = ("data_preparation_mlcube", "reference_model_mlcube", "data_evaluator_mlcube")
BENCHMARK_FIELDS: dict[str, type] = {
    "name": str,
    "description": str,
    "docs_url": str,
    "demo_dataset_tarball_url": str,
    "demo_dataset_tarball_hash": str,
    "demo_dataset_generated_uid": str,
    "data_preparation_mlcube": int,
    "reference_model_mlcube": int,
    "data_evaluator_mlcube": int,
    "metadata": dict,
    "user_metadata": dict,
    "state": str,
    "is_valid": bool,
    "is_active": bool,
    "approval_status": str,
}
_IN_REGISTRATION = {
    "name",
    "description",
    "docs_url",
    "demo_dataset_tarball_url",
    "demo_dataset_tarball_hash",
    *CONTAINER_ROLES,
    "state",
    "metadata",
}
FROZEN = (*CONTAINER_ROLES, "demo_dataset_tarball_hash")
APPROVAL = ("PENDING", "APPROVED", "REJECTED")


class BenchmarkServices(ServiceBase):
    def list_benchmarks(
        self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False
    ) -> Page:
        if mine:
            return self.page("benchmarks", "owner = ?", [caller.id], limit, offset)
        return self.page("benchmarks", "1", [], limit, offset)

    def get_benchmark(self, caller: Caller, benchmark_id: int) -> Json:
        return self.by_id("benchmarks", "benchmark", benchmark_id)

    def _check_containers(self, data: Json) -> None:
        for role in CONTAINER_ROLES:
            if role in data and self.row("SELECT id FROM containers WHERE id = ?", [data[role]]) is None:
                raise FieldError(role, f"{role}: container {data[role]} does not exist")

    def create_benchmark(self, caller: Caller, body: Json) -> Json:
        data = clean(body, BENCHMARK_FIELDS, required=("name", *CONTAINER_ROLES))
        data.pop("approval_status", None)  # set by an admin, never by the submitter
        with self.store.lock:
            self._check_containers(data)
            if self.row("SELECT id FROM benchmarks WHERE name = ?", [data["name"]]):
                raise FieldConflictError("name", f"name: a benchmark named {data['name']!r} already exists")

            def build(bid: int) -> list[DomainEvent]:
                registered = {k: v for k, v in data.items() if k in _IN_REGISTRATION}
                events: list[DomainEvent] = [
                    BenchmarkRegistered(benchmark_id=bid, owner=caller.id, **registered)
                ]
                extra = {k: v for k, v in data.items() if k not in _IN_REGISTRATION}
                if extra:
                    events.append(BenchmarkUpdated(benchmark_id=bid, changes=extra))
                return events

            new_id = self.create("benchmarks", "benchmark", build, caller)
            # The reference model belongs to the benchmark: its association is approved at once, as in MedPerf.
            model = data["reference_model_mlcube"]
            request = associations.request(
                None, kind="model", benchmark=new_id, entity=model, initiated_by=caller.id
            )
            approved = AssociationApproved(
                kind="model", benchmark=new_id, entity=model, approved_by=caller.id
            )
            self.append(associations.stream_name("model", new_id, model), [request, approved], caller)
        return self.get_benchmark(caller, new_id)

    def update_benchmark(self, caller: Caller, benchmark_id: int, body: Json) -> Json:
        with self.store.lock:
            row = self.get_benchmark(caller, benchmark_id)
            data = clean(body, BENCHMARK_FIELDS)
            approval = data.pop("approval_status", None)
            state = data.pop("state", None)
            changes = changed(row, data)
            is_owner = row["owner"] == caller.id
            if (data or state) and not is_owner:  # even unchanged values: only the owner writes its fields
                raise PermissionDeniedError(f"only the owner of benchmark {benchmark_id} can change it")
            if approval is not None and approval not in APPROVAL:
                raise FieldError("approval_status", f"approval_status: must be one of {', '.join(APPROVAL)}")
            if approval is not None and approval != row["approval_status"] and not caller.is_staff:
                raise PermissionDeniedError("only an admin can approve or reject a benchmark")
            self._check_containers(changes)
            if "name" in changes and self.row("SELECT id FROM benchmarks WHERE name = ?", [changes["name"]]):
                raise FieldConflictError(
                    "name", f"name: a benchmark named {changes['name']!r} already exists"
                )
            if row["state"] == "OPERATION":
                frozen = [f for f in FROZEN if f in changes]
                if frozen:
                    raise InvalidTransitionError(
                        f"benchmark {benchmark_id} is operational: {', '.join(frozen)} can no longer change"
                    )
                if state == "DEVELOPMENT":
                    raise UserError(
                        f"benchmark {benchmark_id} is operational and cannot go back to DEVELOPMENT"
                    )
            events: list[DomainEvent] = []
            if changes:
                events.append(BenchmarkUpdated(benchmark_id=benchmark_id, changes=changes))
            if state == "OPERATION" and row["state"] != "OPERATION":
                events.append(BenchmarkMarkedOperational(benchmark_id=benchmark_id))
            if approval is not None and approval != row["approval_status"]:
                events.append(BenchmarkApprovalChanged(benchmark_id=benchmark_id, approval_status=approval))
            if events:
                self.append(f"benchmark-{benchmark_id}", events, caller)
        return self.get_benchmark(caller, benchmark_id)
