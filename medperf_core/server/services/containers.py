"""Containers (`/mlcubes/`): registered by anyone, changed by their owner, hashes frozen once OPERATION."""

from __future__ import annotations

from typing import Any

from medperf_core.domain import containers as domain
from medperf_core.domain import streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import ContainerRegistered, ContainerUpdated, DomainEvent
from medperf_core.domain.resources import CONTAINER
from medperf_core.endpoints import endpoint
from medperf_core.errors import ConfigError, FieldConflictError, FieldError, NotFoundError
from medperf_core.server.services.fields import clean
from medperf_core.server.services.idempotency import Claim
from medperf_core.server.services.writer import Writer
from medperf_core.store.server_read_model import Json, Page, ServerReadModel
from medperf_core.store.store import Append


def _check_config(config: Any) -> None:
    from medperf_core.containers.config import parse_container_config

    try:
        parse_container_config(config)
    except ConfigError as e:
        raise FieldError("container_config", f"container_config: {e.message}") from e


def _cleaned(body: Json, *, creating: bool = False) -> Json:
    data = clean(body, CONTAINER, creating=creating)
    if "image_hash" in data:  # stored and answered as the bare hex digest MedPerf's client compares
        data["image_hash"] = domain.bare_image_hash(data["image_hash"])
    return data


KNOWN_CONTAINERS = 10_000  # ids remembered per process as existing (forgotten all at once past this)


class ContainerService:
    def __init__(self, reads: ServerReadModel, writer: Writer) -> None:
        self.reads = reads
        self.writer = writer
        # Ids of containers seen to exist. No event removes a container, so a container that existed once exists
        # for good, in every process: remembering it can never be stale (a missing id is asked again each time).
        self._existing: set[int] = set()

    def list(self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False) -> Page:
        return self.reads.list(CONTAINER, limit, offset, owner=caller.id if mine else None)

    def get(self, caller: Caller, container_id: int) -> Json:
        found = self.reads.get(CONTAINER, container_id)
        if found is None:
            raise NotFoundError(f"container {container_id} not found")
        return found

    def get_any(self, container_id: int) -> Json:
        """A container the caller need not see (containers are public; kept apart for the rules that read one)."""
        found = self.reads.get(CONTAINER, container_id)
        if found is None:
            raise NotFoundError(f"container {container_id} not found")
        return found

    def exists(self, container_id: int) -> bool:
        """Whether the container is registered: the database is asked until it says yes once."""
        if container_id in self._existing:
            return True
        found = self.reads.exists(CONTAINER, container_id)
        if found:
            if len(self._existing) >= KNOWN_CONTAINERS:
                self._existing.clear()
            self._existing.add(container_id)
        return found

    def _name_free(self, name: str) -> None:
        if self.reads.find(CONTAINER, name=name) is not None:
            raise FieldConflictError("name", f"name: a container named {name!r} already exists")

    def create(self, caller: Caller, body: Json, key: str | None = None, *, published: Json | None = None) -> Json:
        """Register a container. `published`: the URL and hash fields of files the server stored for the body
        (its inline config), not part of what an idempotency key compares (the URL depends on the address)."""
        claim = Claim.of(key, caller.id, endpoint("create_container").operation(), body) if key else None
        first = self.writer.first_answer(claim)
        if first is not None:
            return self.get(caller, int(first["id"]))
        data = _cleaned({**body, **(published or {})}, creating=True)
        if "container_config" not in data and not data.get("git_mlcube_url"):
            raise FieldError(
                "container_config", "container_config: give the container config (or git_mlcube_url)"
            )
        if "container_config" in data:
            _check_config(data["container_config"])
        self._name_free(data["name"])

        def build(cid: int) -> list[Append]:
            events: list[DomainEvent] = [
                ContainerRegistered(
                    container_id=cid,
                    name=data["name"],
                    owner=caller.id,
                    container_config=data.get("container_config", {}),
                    parameters_config=data.get("parameters_config"),
                    config_hash=data.get("mlcube_hash", ""),
                    parameters_hash=data.get("parameters_hash", ""),
                    image_hash=data.get("image_hash", ""),
                    additional_files_hash=data.get("additional_files_tarball_hash", ""),
                    additional_files_url=data.get("additional_files_tarball_url", ""),
                    state=data.get("state", "DEVELOPMENT"),
                    metadata=data.get("metadata", {}),
                )
            ]
            extra = {k: v for k, v in data.items() if k not in domain.IN_REGISTRATION}
            if extra:
                events.append(ContainerUpdated(container_id=cid, changes=extra))
            return [Append(streams.container(cid), 0, events)]

        created = self.writer.create(CONTAINER, build, caller.actor, claim)
        return self.get(caller, created)

    def update(self, caller: Caller, container_id: int, body: Json) -> Json:
        def decide(shown: Json) -> list[DomainEvent]:
            current = CONTAINER.cls(**shown)
            domain.require_owner(current, caller)
            data = _cleaned(body)
            if "container_config" in data:
                _check_config(data["container_config"])
            new = domain.update(current, caller, data)
            renamed = next((e.changes.get("name") for e in new if isinstance(e, ContainerUpdated)), None)
            if renamed is not None:
                self._name_free(renamed)
            return new

        return self.writer.update(streams.container(container_id),
                                  lambda: self.get(caller, container_id), decide, caller.actor)
