"""The association state machine: requested → approved | rejected; a rejected one may be requested again."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from medperf_core.domain import streams
from medperf_core.domain.events import (
    AssociationApproved,
    AssociationApprovedByPolicy,
    AssociationPrioritySet,
    AssociationRejected,
    AssociationRequested,
    DomainEvent,
)
from medperf_core.errors import ConflictError, InvalidTransitionError, UserError

KINDS = ("dataset", "model")


class ApprovalStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@attrs.frozen(kw_only=True)
class Association:
    kind: str
    benchmark: int
    entity: int
    initiated_by: int
    status: ApprovalStatus = ApprovalStatus.PENDING
    priority: int = 0
    metadata: dict[str, Any] = attrs.field(factory=dict)


def stream_name(kind: str, benchmark: int, entity: int) -> str:
    return streams.association(kind, benchmark, entity)


def evolve(assoc: Association | None, event: DomainEvent) -> Association | None:
    if isinstance(event, AssociationRequested):
        return Association(
            kind=event.kind,
            benchmark=event.benchmark,
            entity=event.entity,
            initiated_by=event.initiated_by,
            metadata=event.metadata,
            priority=event.priority,
        )
    if assoc is None:
        return None
    if isinstance(event, AssociationApproved | AssociationApprovedByPolicy):
        return attrs.evolve(assoc, status=ApprovalStatus.APPROVED)
    if isinstance(event, AssociationRejected):
        return attrs.evolve(assoc, status=ApprovalStatus.REJECTED)
    if isinstance(event, AssociationPrioritySet):
        return attrs.evolve(assoc, priority=event.priority)
    return assoc


def fold(events: Iterable[DomainEvent]) -> Association | None:
    assoc: Association | None = None
    for e in events:
        assoc = evolve(assoc, e)
    return assoc


def request(
    existing: Association | None,
    *,
    kind: str,
    benchmark: int,
    entity: int,
    initiated_by: int,
    metadata: dict[str, Any] | None = None,
) -> AssociationRequested:
    if kind not in KINDS:
        raise UserError(f"unknown association kind {kind!r}", f"use one of {', '.join(KINDS)}")
    if existing is not None and existing.status is not ApprovalStatus.REJECTED:
        raise ConflictError(
            f"{kind} {entity} already has a {existing.status.value.lower()} association with benchmark {benchmark}",
            "see: medperf association ls",
        )
    return AssociationRequested(
        kind=kind, benchmark=benchmark, entity=entity, initiated_by=initiated_by, metadata=metadata or {}
    )


def _decidable(assoc: Association | None, kind: str, benchmark: int, entity: int) -> Association:
    if assoc is None:
        raise InvalidTransitionError(
            f"there is no association request of {kind} {entity} with benchmark {benchmark}",
            "the owner must request it first",
        )
    if assoc.status is not ApprovalStatus.PENDING:
        raise InvalidTransitionError(
            f"the association of {kind} {entity} with benchmark {benchmark} is already {assoc.status.value.lower()}"
        )
    return assoc


def approve(
    assoc: Association | None, *, kind: str, benchmark: int, entity: int, by: int
) -> AssociationApproved:
    _decidable(assoc, kind, benchmark, entity)
    return AssociationApproved(kind=kind, benchmark=benchmark, entity=entity, approved_by=by)


def reject(
    assoc: Association | None, *, kind: str, benchmark: int, entity: int, by: int
) -> AssociationRejected:
    _decidable(assoc, kind, benchmark, entity)
    return AssociationRejected(kind=kind, benchmark=benchmark, entity=entity, rejected_by=by)
