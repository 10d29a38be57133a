"""The dataset state machine: registered → prepared → operational, never back."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from medperf_core.domain.events import (
    DatasetMarkedOperational,
    DatasetPrepared,
    DatasetRegistered,
    DomainEvent,
)
from medperf_core.errors import ConflictError, InvalidTransitionError


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


def evolve(dataset: Dataset | None, event: DomainEvent) -> Dataset | None:
    """Fold one event into the dataset; events of other kinds leave it unchanged."""
    if isinstance(event, DatasetRegistered):
        return Dataset(
            dataset_id=event.dataset_id,
            name=event.name,
            owner=event.owner,
            input_data_hash=event.input_data_hash,
            generated_uid=event.generated_uid,
            data_preparation_mlcube=event.data_preparation_mlcube,
            benchmark=event.benchmark,
        )
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
