"""Datasets: metadata only; visible to the owner, owners of associated benchmarks and admins; frozen once OPERATION."""

from __future__ import annotations

from medperf_core.domain import datasets as domain
from medperf_core.domain import streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import DomainEvent
from medperf_core.domain.resources import DATASET
from medperf_core.endpoints import endpoint
from medperf_core.errors import FieldError, NotFoundError
from medperf_core.server.services.containers import ContainerService
from medperf_core.server.services.fields import clean
from medperf_core.server.services.idempotency import Claim
from medperf_core.server.services.writer import Writer
from medperf_core.store.server_read_model import Json, Page, ServerReadModel
from medperf_core.store.store import Append


class DatasetService:
    def __init__(self, reads: ServerReadModel, writer: Writer, containers: ContainerService) -> None:
        self.reads = reads
        self.writer = writer
        self.containers = containers

    def get(self, caller: Caller, dataset_id: int) -> Json:
        """The dataset, or NotFoundError — the same for a missing one and one the caller may not see."""
        found = (
            self.reads.get(DATASET, dataset_id)
            if caller.is_staff
            else self.reads.dataset_visible_to(caller.id, dataset_id)
        )
        if found is None:
            raise NotFoundError(f"dataset {dataset_id} not found")
        return found

    def list(self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False) -> Page:
        if mine:
            return self.reads.list(DATASET, limit, offset, owner=caller.id)
        if caller.is_staff:
            return self.reads.list(DATASET, limit, offset)
        return self.reads.datasets_visible_to(caller.id, limit, offset)

    def _container_exists(self, container_id: int) -> None:
        if not self.containers.exists(container_id):
            raise FieldError(
                "data_preparation_mlcube", f"data_preparation_mlcube: container {container_id} does not exist"
            )

    def create(self, caller: Caller, body: Json, key: str | None = None) -> Json:
        claim = Claim.of(key, caller.id, endpoint("create_dataset").operation(), body) if key else None
        first = self.writer.first_answer(claim)
        if first is not None:
            return self.get(caller, int(first["id"]))
        data = clean(body, DATASET, creating=True)
        domain.check_registration_state(data)
        self._container_exists(data["data_preparation_mlcube"])
        created = self.writer.create(
            DATASET,
            lambda did: [Append(streams.dataset(did), 0, domain.registration_events(did, caller.id, data))],
            caller.actor,
            claim,
        )
        return self.get(caller, created)

    def update(self, caller: Caller, dataset_id: int, body: Json, key: str | None = None) -> Json:
        """With `key` (an Idempotency-Key) the change is made once: the same key again answers with the dataset."""
        claim = Claim.of(key, caller.id, endpoint("update_dataset").operation(dataset_id), body) if key else None
        if self.writer.first_answer(claim) is not None:
            return self.get(caller, dataset_id)

        def decide(shown: Json) -> list[DomainEvent]:
            current = DATASET.cls(**shown)
            domain.require_owner(current, caller)
            data = clean(body, DATASET)
            if data.get("data_preparation_mlcube", current.data_preparation_mlcube) != current.data_preparation_mlcube:
                self._container_exists(data["data_preparation_mlcube"])
            return domain.update(
                current,
                caller,
                data,
                operational_with_uid=lambda uid: self.reads.operational_dataset_with_uid(uid, dataset_id),
            )

        return self.writer.update(streams.dataset(dataset_id),
                                  lambda: self.get(caller, dataset_id), decide, caller.actor, claim,
                                  {"dataset": dataset_id})
