"""The dataset state machine: registered → prepared → operational, never back."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from medperf_core.domain import resources
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import (
    DatasetMarkedOperational,
    DatasetPrepared,
    DatasetRegistered,
    DatasetReportUpdated,
    DatasetUpdated,
    DomainEvent,
)
from medperf_core.domain.updates import changed, check_operational_rules
from medperf_core.errors import (
    ConflictError,
    FieldConflictError,
    FieldError,
    InvalidTransitionError,
    PermissionDeniedError,
)


class DatasetState(enum.StrEnum):
    REGISTERED = "registered"
    PREPARED = "prepared"
    OPERATIONAL = "operational"


@attrs.frozen(kw_only=True)
class Dataset:
    dataset_id: int
    name: str
    owner: int
    input_data_hash: str
    generated_uid: str
    data_preparation_mlcube: int
    benchmark: int | None = None
    state: DatasetState = DatasetState.REGISTERED
    statistics: dict[str, Any] = attrs.field(factory=dict)

    @property
    def is_operational(self) -> bool:
        return self.state is DatasetState.OPERATIONAL


def registered(event: DatasetRegistered) -> Dataset:
    """The dataset a registration makes (its first state)."""
    return Dataset(
        dataset_id=event.dataset_id,
        name=event.name,
        owner=event.owner,
        input_data_hash=event.input_data_hash,
        generated_uid=event.generated_uid,
        data_preparation_mlcube=event.data_preparation_mlcube,
        benchmark=event.benchmark,
    )


def evolve(dataset: Dataset | None, event: DomainEvent) -> Dataset | None:
    """Fold one event into the dataset; events of other kinds leave it unchanged."""
    if isinstance(event, DatasetRegistered):
        return registered(event)
    if dataset is None:
        return None
    if isinstance(event, DatasetPrepared):
        return attrs.evolve(
            dataset, state=DatasetState.PREPARED, generated_uid=event.generated_uid, statistics=event.statistics
        )
    if isinstance(event, DatasetMarkedOperational):
        return attrs.evolve(
            dataset,
            state=DatasetState.OPERATIONAL,
            input_data_hash=event.input_data_hash,
            generated_uid=event.generated_uid,
            statistics=event.statistics,
        )
    return dataset


def fold(events: Iterable[DomainEvent]) -> Dataset | None:
    dataset: Dataset | None = None
    for e in events:
        dataset = evolve(dataset, e)
    return dataset


def register(existing: Dataset | None, event: DatasetRegistered) -> DatasetRegistered:
    if existing is not None:
        raise ConflictError(f"dataset {existing.dataset_id} is already registered")
    return event


def prepare(dataset: Dataset, generated_uid: str, statistics: dict[str, Any]) -> DatasetPrepared:
    if dataset.is_operational:
        raise InvalidTransitionError(
            f"dataset {dataset.dataset_id} is operational and cannot be prepared again",
            "register the data as a new dataset to prepare it differently",
        )
    return DatasetPrepared(dataset_id=dataset.dataset_id, generated_uid=generated_uid, statistics=statistics)


def mark_operational(
    dataset: Dataset,
    *,
    generated_uid: str | None = None,
    statistics: dict[str, Any] | None = None,
    require_prepared: bool = True,
) -> DatasetMarkedOperational:
    """Operational is final. The client requires a preparation first; the server only sees the hashes."""
    if dataset.is_operational:
        raise InvalidTransitionError(f"dataset {dataset.dataset_id} is already operational", "nothing to do")
    if require_prepared and dataset.state is not DatasetState.PREPARED:
        raise InvalidTransitionError(
            f"dataset {dataset.dataset_id} is not prepared yet",
            f"run: medperf dataset prepare --data_uid {dataset.dataset_id}",
        )
    return DatasetMarkedOperational(
        dataset_id=dataset.dataset_id,
        input_data_hash=dataset.input_data_hash,
        generated_uid=generated_uid if generated_uid is not None else dataset.generated_uid,
        statistics=statistics if statistics is not None else dataset.statistics,
    )


# --- the server's side: metadata updates by the owner -------------------------------------------------------

IN_REGISTRATION = frozenset({
    "name", "description", "location", "input_data_hash", "generated_uid", "data_preparation_mlcube",
    "submitted_as_prepared",
})


def registration_events(dataset_id: int, owner: int, data: dict[str, Any]) -> list[DomainEvent]:
    """A registration, then the other fields sent with it (the state is decided separately)."""
    registered = {k: v for k, v in data.items() if k in IN_REGISTRATION}
    events: list[DomainEvent] = [DatasetRegistered(dataset_id=dataset_id, owner=owner, **registered)]
    extra = {k: v for k, v in data.items() if k not in IN_REGISTRATION and k not in ("report", "state")}
    if extra:
        events.append(DatasetUpdated(dataset_id=dataset_id, changes=extra))
    if data.get("report"):
        events.append(DatasetReportUpdated(dataset_id=dataset_id, report=data["report"]))
    return events


def check_registration_state(data: dict[str, Any]) -> None:
    """Registration always starts in DEVELOPMENT: OPERATION needs the prepared data's hash and statistics,
    which only exist after a preparation (PUT them with the state)."""
    if data.get("state", "DEVELOPMENT") != "DEVELOPMENT":
        raise FieldError(
            "state",
            "state: a dataset is registered in DEVELOPMENT",
            "prepare it, then PUT /datasets/{id}/ with generated_uid, generated_metadata and state OPERATION "
            "(medperf dataset set_operational)",
        )


def check_operational_request(current: resources.Dataset, data: dict[str, Any]) -> None:
    """The move to OPERATION carries the prepared data's hash and its statistics (MedPerf's set_operational PUT);
    the prepared hash differs from the raw data's unless the data was submitted as prepared."""
    uid = data.get("generated_uid")
    if not uid:
        raise FieldError("generated_uid", "generated_uid: the move to OPERATION needs the prepared data's hash")
    if not data.get("generated_metadata"):
        raise FieldError(
            "generated_metadata", "generated_metadata: the move to OPERATION needs the prepared data's statistics"
        )
    raw = data.get("input_data_hash") or current.input_data_hash
    if uid == raw and not current.submitted_as_prepared:
        raise FieldError(
            "generated_uid",
            "generated_uid: equals the raw data's hash, so the data was never prepared",
            f"prepare it first: medperf dataset prepare --data_uid {current.id}",
        )


def require_owner(current: resources.Dataset, by: Caller) -> None:
    if current.owner != by.id:
        raise PermissionDeniedError(f"only the owner of dataset {current.id} can change it")


def update(
    current: resources.Dataset,
    by: Caller,
    data: dict[str, Any],
    *,
    operational_with_uid: Callable[[str], int | None],
) -> list[DomainEvent]:
    """The events of a PUT by the owner. `operational_with_uid(uid)` names another operational dataset with
    that prepared-data hash (two operational datasets never share one)."""
    require_owner(current, by)
    data = dict(data)
    if data.get("state") == "OPERATION" and current.state != "OPERATION":
        check_operational_request(current, data)
    state = data.pop("state", None)
    report = data.pop("report", None)
    changes = changed(current, data)
    check_operational_rules(
        resources.DATASET, f"dataset {current.id}", current, changes, state, "register the data as a new dataset"
    )
    events: list[DomainEvent] = []
    if state == "OPERATION" and current.state != "OPERATION":
        events += _mark_operational(current, changes, operational_with_uid)
    elif changes:
        events.append(DatasetUpdated(dataset_id=current.id, changes=changes))
    if report is not None and report != current.report:
        events.append(DatasetReportUpdated(dataset_id=current.id, report=report))
    return events


def _mark_operational(
    current: resources.Dataset, changes: dict[str, Any], operational_with_uid: Callable[[str], int | None]
) -> list[DomainEvent]:
    frozen = resources.DATASET.frozen()
    hashes = {k: changes.pop(k) for k in frozen if k in changes}
    final = attrs.evolve(current, **hashes)
    clash = operational_with_uid(final.generated_uid)
    if clash is not None:
        raise FieldConflictError(
            "generated_uid",
            f"generated_uid: an operational dataset with hash {final.generated_uid} is already registered",
        )
    events: list[DomainEvent] = []
    before = {
        k: v for k, v in {**changes, **hashes}.items() if k not in ("generated_uid", "generated_metadata")
    }
    if before:
        events.append(DatasetUpdated(dataset_id=current.id, changes=before))
    machine = Dataset(
        dataset_id=final.id, name=final.name, owner=final.owner, input_data_hash=final.input_data_hash,
        generated_uid=final.generated_uid, data_preparation_mlcube=final.data_preparation_mlcube,
        state=DatasetState.REGISTERED, statistics=final.generated_metadata,
    )
    events.append(mark_operational(machine, require_prepared=False))
    return events
