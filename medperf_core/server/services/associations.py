"""Benchmark–dataset and benchmark–model associations: requested by the entity's owner, decided by the benchmark's."""

from __future__ import annotations

from medperf_core.domain import associations as domain
from medperf_core.domain.events import AssociationPrioritySet, DomainEvent
from medperf_core.errors import NotFoundError, PermissionDeniedError, UserError
from medperf_core.server.services.base import Caller, FieldError, Json, Page, ServiceBase, clean

TABLES = {"dataset": ("dataset_associations", "dataset"), "model": ("model_associations", "model_mlcube")}
REQUEST_FIELDS: dict[str, type] = {"dataset": int, "model_mlcube": int, "benchmark": int, "metadata": dict}
DECISION_FIELDS: dict[str, type] = {"approval_status": str, "priority": int}


class AssociationServices(ServiceBase):
    def _entity(self, caller: Caller, kind: str, entity_id: int) -> Json:
        if kind == "dataset":
            return self.visible_dataset(caller, entity_id)  # type: ignore[attr-defined,no-any-return]
        return self.by_id("containers", "container", entity_id)

    def latest_association(self, kind: str, entity_id: int, benchmark_id: int) -> Json | None:
        table, column = TABLES[kind]
        return self.row(
            f"SELECT * FROM [{table}] WHERE [{column}] = ? AND benchmark = ? ORDER BY id DESC LIMIT 1",
            [entity_id, benchmark_id],
        )

    def request_association(self, caller: Caller, kind: str, body: Json) -> Json:
        column = TABLES[kind][1]
        data = clean(body, REQUEST_FIELDS, required=(column, "benchmark"))
        entity_id, benchmark_id = data[column], data["benchmark"]
        with self.store.lock:
            entity = self._entity(caller, kind, entity_id)
            benchmark = self.by_id("benchmarks", "benchmark", benchmark_id)
            if entity["owner"] != caller.id:
                raise PermissionDeniedError(f"only the owner of {kind} {entity_id} can associate it")
            if kind == "dataset" and entity["state"] != "OPERATION":
                raise UserError(
                    f"dataset {entity_id} is not operational",
                    f"run: medperf dataset set_operational --data_uid {entity_id}",
                )
            stream = domain.stream_name(kind, benchmark_id, entity_id)
            current = domain.fold(self.store.load(stream)[0])
            events: list[DomainEvent] = [
                domain.request(
                    current,
                    kind=kind,
                    benchmark=benchmark_id,
                    entity=entity_id,
                    initiated_by=caller.id,
                    metadata=data.get("metadata"),
                )
            ]
            if benchmark["owner"] == caller.id:  # the benchmark owner asking: approved at once
                events.append(
                    domain.approve(
                        domain.fold(events), kind=kind, benchmark=benchmark_id, entity=entity_id, by=caller.id
                    )
                )
            self.append(stream, events, caller)
            found = self.latest_association(kind, entity_id, benchmark_id)
        assert found is not None
        return found

    def get_association(self, caller: Caller, kind: str, entity_id: int, benchmark_id: int) -> Json:
        with self.store.lock:
            entity = self._entity(caller, kind, entity_id)
            benchmark = self.by_id("benchmarks", "benchmark", benchmark_id)
            found = self.latest_association(kind, entity_id, benchmark_id)
            if found is None:
                raise NotFoundError(f"{kind} {entity_id} has no association with benchmark {benchmark_id}")
            if kind == "dataset" and not (
                caller.is_staff or caller.id in (entity["owner"], benchmark["owner"])
            ):
                raise NotFoundError(f"dataset {entity_id} not found")
        return found

    def update_association(
        self, caller: Caller, kind: str, entity_id: int, benchmark_id: int, body: Json
    ) -> Json:
        data = clean(body, DECISION_FIELDS)
        if not data:
            raise UserError("nothing to change", "send approval_status (APPROVED or REJECTED) or priority")
        with self.store.lock:
            current_row = self.get_association(caller, kind, entity_id, benchmark_id)
            benchmark = self.by_id("benchmarks", "benchmark", benchmark_id)
            may_decide = caller.id == benchmark["owner"] or (kind == "dataset" and caller.is_staff)
            if not may_decide:
                raise PermissionDeniedError(
                    f"only the owner of benchmark {benchmark_id} can decide this association"
                )
            stream = domain.stream_name(kind, benchmark_id, entity_id)
            current = domain.fold(self.store.load(stream)[0])
            events: list[DomainEvent] = []
            status = data.get("approval_status")
            if status is not None and status != current_row["approval_status"]:
                if status == "APPROVED":
                    events.append(
                        domain.approve(
                            current, kind=kind, benchmark=benchmark_id, entity=entity_id, by=caller.id
                        )
                    )
                elif status == "REJECTED":
                    events.append(
                        domain.reject(
                            current, kind=kind, benchmark=benchmark_id, entity=entity_id, by=caller.id
                        )
                    )
                else:
                    raise FieldError("approval_status", "approval_status: must be APPROVED or REJECTED")
            if "priority" in data:
                if kind != "model":
                    raise FieldError("priority", "priority: only model associations have a priority")
                events.append(
                    AssociationPrioritySet(
                        kind=kind, benchmark=benchmark_id, entity=entity_id, priority=data["priority"]
                    )
                )
            if events:
                self.append(stream, events, caller)
            found = self.latest_association(kind, entity_id, benchmark_id)
        assert found is not None
        return found

    def my_associations(self, caller: Caller, kind: str, limit: int | None = None, offset: int = 0) -> Page:
        table, column = TABLES[kind]
        owners = "datasets" if kind == "dataset" else "containers"
        return self.page(
            table, f"[{column}] IN (SELECT id FROM [{owners}] WHERE owner = ?)", [caller.id], limit, offset
        )

    def benchmark_associations(
        self, caller: Caller, kind: str, benchmark_id: int, limit: int | None = None, offset: int = 0
    ) -> Page:
        """Model rows are public to signed-in users (the data owner's run needs them); dataset rows are not."""
        benchmark = self.by_id("benchmarks", "benchmark", benchmark_id)
        if kind == "dataset" and not (caller.is_staff or caller.id == benchmark["owner"]):
            raise PermissionDeniedError(f"only the owner of benchmark {benchmark_id} can list its datasets")
        return self.page(TABLES[kind][0], "benchmark = ?", [benchmark_id], limit, offset)
