"""Containers (`/mlcubes/`): registered by anyone, changed by their owner, hashes frozen once OPERATION."""

from __future__ import annotations

from typing import Any

from medperf_core.domain.events import (
    ContainerMarkedOperational,
    ContainerRegistered,
    ContainerUpdated,
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

CONTAINER_FIELDS: dict[str, type] = {
    "name": str,
    "git_mlcube_url": str,
    "mlcube_hash": str,
    "git_parameters_url": str,
    "parameters_hash": str,
    "image_tarball_url": str,
    "image_tarball_hash": str,
    "image_hash": str,
    "additional_files_tarball_url": str,
    "additional_files_tarball_hash": str,
    "state": str,
    "is_valid": bool,
    "metadata": dict,
    "user_metadata": dict,
    "container_config": dict,
    "parameters_config": dict,
}
# What a registration event carries; the other writable fields follow as a ContainerUpdated in the same append.
_IN_REGISTRATION = {
    "name",
    "container_config",
    "parameters_config",
    "mlcube_hash",
    "parameters_hash",
    "image_hash",
    "additional_files_tarball_hash",
    "additional_files_tarball_url",
    "state",
    "metadata",
}
FROZEN = (
    "git_mlcube_url",
    "mlcube_hash",
    "git_parameters_url",
    "parameters_hash",
    "image_tarball_url",
    "image_tarball_hash",
    "image_hash",
    "additional_files_tarball_url",
    "additional_files_tarball_hash",
    "container_config",
    "parameters_config",
)


def _check_config(config: Any) -> None:
    from medperf_core.containers.config import parse_container_config
    from medperf_core.errors import ConfigError

    try:
        parse_container_config(config)
    except ConfigError as e:
        raise FieldError("container_config", f"container_config: {e.message}") from e


class ContainerServices(ServiceBase):
    def list_containers(
        self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False
    ) -> Page:
        if mine:
            return self.page("containers", "owner = ?", [caller.id], limit, offset)
        return self.page("containers", "1", [], limit, offset)

    def get_container(self, caller: Caller, container_id: int) -> Json:
        return self.by_id("containers", "container", container_id)

    def create_container(self, caller: Caller, body: Json) -> Json:
        data = clean(body, CONTAINER_FIELDS, required=("name",))
        if "container_config" not in data and not data.get("git_mlcube_url"):
            raise FieldError(
                "container_config", "container_config: give the container config (or git_mlcube_url)"
            )
        if "container_config" in data:
            _check_config(data["container_config"])
        with self.store.lock:
            if self.row("SELECT id FROM containers WHERE name = ?", [data["name"]]):
                raise FieldConflictError("name", f"name: a container named {data['name']!r} already exists")

            def build(cid: int) -> list[DomainEvent]:
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
                extra = {k: v for k, v in data.items() if k not in _IN_REGISTRATION}
                if extra:
                    events.append(ContainerUpdated(container_id=cid, changes=extra))
                return events

            new_id = self.create("containers", "container", build, caller)
        return self.get_container(caller, new_id)

    def update_container(self, caller: Caller, container_id: int, body: Json) -> Json:
        with self.store.lock:
            row = self.get_container(caller, container_id)
            if row["owner"] != caller.id:
                raise PermissionDeniedError(f"only the owner of container {container_id} can change it")
            data = clean(body, CONTAINER_FIELDS)
            state = data.pop("state", None)
            changes = changed(row, data)
            if "container_config" in changes:
                _check_config(changes["container_config"])
            if "name" in changes and self.row("SELECT id FROM containers WHERE name = ?", [changes["name"]]):
                raise FieldConflictError(
                    "name", f"name: a container named {changes['name']!r} already exists"
                )
            if row["state"] == "OPERATION":
                frozen = [f for f in FROZEN if f in changes]
                if frozen:
                    raise InvalidTransitionError(
                        f"container {container_id} is operational: {', '.join(frozen)} can no longer change",
                        "register a new container instead",
                    )
                if state == "DEVELOPMENT":
                    raise UserError(
                        f"container {container_id} is operational and cannot go back to DEVELOPMENT"
                    )
            events: list[DomainEvent] = []
            if changes:
                events.append(ContainerUpdated(container_id=container_id, changes=changes))
            if state == "OPERATION" and row["state"] != "OPERATION":
                events.append(ContainerMarkedOperational(container_id=container_id))
            if events:
                self.append(f"container-{container_id}", events, caller)
        return self.get_container(caller, container_id)
