"""Association: requested → approved | rejected; a rejected one may be requested again, nothing else may."""

from __future__ import annotations

import pytest

from medperf_core.domain import associations
from medperf_core.domain.associations import ApprovalStatus, Association
from medperf_core.domain.events import AssociationPrioritySet, AssociationRequested
from medperf_core.errors import ConflictError, InvalidTransitionError, UserError

KEY = {"kind": "dataset", "benchmark": 1, "entity": 5}


def at(status: ApprovalStatus | None) -> Association | None:
    if status is None:
        return None
    assoc = associations.evolve(None, associations.request(None, initiated_by=3, **KEY))
    if status is ApprovalStatus.APPROVED:
        assoc = associations.evolve(assoc, associations.approve(assoc, by=2, **KEY))
    elif status is ApprovalStatus.REJECTED:
        assoc = associations.evolve(assoc, associations.reject(assoc, by=2, **KEY))
    assert assoc is not None and assoc.status is status
    return assoc


@pytest.mark.parametrize("existing", [None, ApprovalStatus.REJECTED])
def test_request_is_allowed_when_absent_or_rejected(existing: ApprovalStatus | None) -> None:
    event = associations.request(at(existing), initiated_by=3, metadata={"note": "x"}, **KEY)
    assert event == AssociationRequested(initiated_by=3, metadata={"note": "x"}, **KEY)
    assoc = associations.evolve(at(existing), event)
    assert assoc is not None and assoc.status is ApprovalStatus.PENDING


@pytest.mark.parametrize("existing", [ApprovalStatus.PENDING, ApprovalStatus.APPROVED])
def test_request_is_a_conflict_while_pending_or_approved(existing: ApprovalStatus) -> None:
    with pytest.raises(ConflictError, match=existing.value.lower()):
        associations.request(at(existing), initiated_by=3, **KEY)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(UserError, match="unknown association kind"):
        associations.request(None, kind="benchmark", benchmark=1, entity=5, initiated_by=3)


@pytest.mark.parametrize(
    ("decide", "status"), [("approve", ApprovalStatus.APPROVED), ("reject", ApprovalStatus.REJECTED)]
)
def test_a_pending_request_can_be_decided(decide: str, status: ApprovalStatus) -> None:
    event = getattr(associations, decide)(at(ApprovalStatus.PENDING), by=2, **KEY)
    after = associations.evolve(at(ApprovalStatus.PENDING), event)
    assert after is not None and after.status is status


@pytest.mark.parametrize("decide", ["approve", "reject"])
@pytest.mark.parametrize("existing", [ApprovalStatus.APPROVED, ApprovalStatus.REJECTED])
def test_a_decided_request_cannot_be_decided_again(decide: str, existing: ApprovalStatus) -> None:
    with pytest.raises(InvalidTransitionError, match=f"already {existing.value.lower()}"):
        getattr(associations, decide)(at(existing), by=2, **KEY)


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_nothing_to_decide_without_a_request(decide: str) -> None:
    with pytest.raises(InvalidTransitionError, match="no association request"):
        getattr(associations, decide)(None, by=2, **KEY)


def test_priority_is_folded_and_stream_names_are_stable() -> None:
    assoc = associations.fold(
        [associations.request(None, initiated_by=3, **KEY), AssociationPrioritySet(priority=4, **KEY)]
    )
    assert assoc is not None and assoc.priority == 4 and assoc.status is ApprovalStatus.PENDING
    assert associations.stream_name("dataset", 1, 5) == "association-dataset-5-benchmark-1"
    assert associations.fold([AssociationPrioritySet(priority=4, **KEY)]) is None
