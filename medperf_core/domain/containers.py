"""Container rules: changed only by their owner; hashes and configs frozen once operational."""

from __future__ import annotations

from typing import Any

from medperf_core.domain.callers import Caller
from medperf_core.domain.events import ContainerMarkedOperational, ContainerUpdated, DomainEvent
from medperf_core.domain.resources import CONTAINER, Container
from medperf_core.domain.updates import changed, check_operational_rules
from medperf_core.errors import PermissionDeniedError

# What a registration event carries; the other writable fields follow as a ContainerUpdated in the same append.
IN_REGISTRATION = frozenset({
    "name", "container_config", "parameters_config", "mlcube_hash", "parameters_hash", "image_hash",
    "additional_files_tarball_hash", "additional_files_tarball_url", "state", "metadata",
})


def bare_image_hash(value: str) -> str:
    """An image digest as MedPerf's client compares it: the bare 64-hex id (`sha256:` accepted and dropped)."""
    value = value.strip()
    return value[len("sha256:"):] if value.lower().startswith("sha256:") else value


def require_owner(current: Container, by: Caller) -> None:
    if current.owner != by.id:
        raise PermissionDeniedError(f"only the owner of container {current.id} can change it")


def update(current: Container, by: Caller, data: dict[str, Any]) -> list[DomainEvent]:
    """The events of a PUT: `data` holds the writable fields sent (state included)."""
    require_owner(current, by)
    data = dict(data)
    state = data.pop("state", None)
    changes = changed(current, data)
    check_operational_rules(
        CONTAINER, f"container {current.id}", current, changes, state, "register a new container instead"
    )
    events: list[DomainEvent] = []
    if changes:
        events.append(ContainerUpdated(container_id=current.id, changes=changes))
    if state == "OPERATION" and current.state != "OPERATION":
        events.append(ContainerMarkedOperational(container_id=current.id))
    return events
