"""Datasets: metadata only; visible to the owner, owners of associated benchmarks and admins; frozen once OPERATION."""

from __future__ import annotations

from typing import Any

from medperf_core.domain import datasets as domain
from medperf_core.domain.events import (
    DatasetRegistered,
    DatasetReportUpdated,
    DatasetUpdated,
    DomainEvent,
)
from medperf_core.errors import InvalidTransitionError, NotFoundError, PermissionDeniedError, UserError
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

DATASET_FIELDS: dict[str, type] = {
    "name": str,
    "description": str,
    "location": str,
    "input_data_hash": str,
    "generated_uid": str,
    "split_seed": int,
    "data_preparation_mlcube": int,
    "is_valid": bool,
    "submitted_as_prepared": bool,
    "state": str,
    "generated_metadata": dict,
    "user_metadata": dict,
    "report": dict,
}
_IN_REGISTRATION = {
    "name",
    "description",
    "location",
    "input_data_hash",
    "generated_uid",
    "data_preparation_mlcube",
    "submitted_as_prepared",
}
FROZEN = ("input_data_hash", "generated_uid", "generated_metadata", "data_preparation_mlcube")
# A dataset is visible to whoever owns a benchmark it asked to join (any association row).
VISIBLE = (
    "(owner = ? OR id IN (SELECT a.dataset FROM dataset_associations a JOIN benchmarks b "
    "ON a.benchmark = b.id WHERE b.owner = ?))"
)


def _domain_dataset(row: Json) -> domain.Dataset:
    state = domain.DatasetState.OPERATIONAL if row["state"] == "OPERATION" else domain.DatasetState.REGISTERED
    return domain.Dataset(
        dataset_id=row["id"],
        name=row["name"],
        owner=row["owner"],
        input_data_hash=row["input_data_hash"],
        generated_uid=row["generated_uid"],
        data_preparation_mlcube=row["data_preparation_mlcube"],
        state=state,
        statistics=row["generated_metadata"] or {},
    )


class DatasetServices(ServiceBase):
    def visible_dataset(self, caller: Caller, dataset_id: int) -> Json:
        """The dataset, or NotFoundError — the same for a missing one and one the caller may not see."""
        if caller.is_staff:
            return self.by_id("datasets", "dataset", dataset_id)
        found = self.row(
            f"SELECT * FROM datasets WHERE id = ? AND {VISIBLE}", [dataset_id, caller.id, caller.id]
        )
        if found is None:
            raise NotFoundError(f"dataset {dataset_id} not found")
        return found

    def list_datasets(
        self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False
    ) -> Page:
        if mine:
            return self.page("datasets", "owner = ?", [caller.id], limit, offset)
        if caller.is_staff:
            return self.page("datasets", "1", [], limit, offset)
        return self.page("datasets", VISIBLE, [caller.id, caller.id], limit, offset)

    def get_dataset(self, caller: Caller, dataset_id: int) -> Json:
        return self.visible_dataset(caller, dataset_id)

    def _container_exists(self, container_id: int) -> None:
        if self.row("SELECT id FROM containers WHERE id = ?", [container_id]) is None:
            raise FieldError(
                "data_preparation_mlcube", f"data_preparation_mlcube: container {container_id} does not exist"
            )

    def create_dataset(self, caller: Caller, body: Json) -> Json:
        data = clean(
            body,
            DATASET_FIELDS,
            required=("name", "input_data_hash", "generated_uid", "data_preparation_mlcube"),
        )
        state = data.pop("state", "DEVELOPMENT")
        with self.store.lock:
            self._container_exists(data["data_preparation_mlcube"])

            def build(did: int) -> list[DomainEvent]:
                registered = {k: v for k, v in data.items() if k in _IN_REGISTRATION}
                events: list[DomainEvent] = [DatasetRegistered(dataset_id=did, owner=caller.id, **registered)]
                extra = {k: v for k, v in data.items() if k not in _IN_REGISTRATION and k != "report"}
                if extra:
                    events.append(DatasetUpdated(dataset_id=did, changes=extra))
                if data.get("report"):
                    events.append(DatasetReportUpdated(dataset_id=did, report=data["report"]))
                return events

            new_id = self.create("datasets", "dataset", build, caller)
            if state == "OPERATION":  # submitted already prepared and operational
                return self.update_dataset(caller, new_id, {"state": "OPERATION"})
        return self.get_dataset(caller, new_id)

    def update_dataset(self, caller: Caller, dataset_id: int, body: Json) -> Json:
        with self.store.lock:
            row = self.visible_dataset(caller, dataset_id)
            if row["owner"] != caller.id:
                raise PermissionDeniedError(f"only the owner of dataset {dataset_id} can change it")
            data = clean(body, DATASET_FIELDS)
            state = data.pop("state", None)
            report = data.pop("report", None)
            changes = changed(row, data)
            if "data_preparation_mlcube" in changes:
                self._container_exists(changes["data_preparation_mlcube"])
            operational = row["state"] == "OPERATION"
            if operational:
                frozen = [f for f in FROZEN if f in changes]
                if frozen:
                    raise InvalidTransitionError(
                        f"dataset {dataset_id} is operational: {', '.join(frozen)} can no longer change",
                        "register the data as a new dataset",
                    )
                if state == "DEVELOPMENT":
                    raise UserError(f"dataset {dataset_id} is operational and cannot go back to DEVELOPMENT")
            events: list[DomainEvent] = []
            if state == "OPERATION" and not operational:
                events += self._mark_operational(row, changes)
            elif changes:
                events.append(DatasetUpdated(dataset_id=dataset_id, changes=changes))
            if report is not None and report != row["report"]:
                events.append(DatasetReportUpdated(dataset_id=dataset_id, report=report))
            if events:
                self.append(f"dataset-{dataset_id}", events, caller)
        return self.get_dataset(caller, dataset_id)

    def _mark_operational(self, row: Json, changes: dict[str, Any]) -> list[DomainEvent]:
        hashes = {k: changes.pop(k) for k in FROZEN if k in changes}
        current = _domain_dataset({**row, **hashes})
        uid = current.generated_uid
        clash = self.row(
            "SELECT id FROM datasets WHERE state = 'OPERATION' AND generated_uid = ? AND id != ?",
            [uid, row["id"]],
        )
        if clash is not None:
            raise FieldConflictError(
                "generated_uid",
                f"generated_uid: an operational dataset with hash {uid} is already registered",
            )
        events: list[DomainEvent] = []
        before = {
            k: v for k, v in {**changes, **hashes}.items() if k not in ("generated_uid", "generated_metadata")
        }
        if before:
            events.append(DatasetUpdated(dataset_id=row["id"], changes=before))
        events.append(
            domain.mark_operational(
                current, generated_uid=uid, statistics=current.statistics, require_prepared=False
            )
        )
        return events
