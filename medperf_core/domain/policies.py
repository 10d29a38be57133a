"""A benchmark's association policy: which requests the server approves at once, without the owner.

Per kind (dataset, model): NEVER (the owner decides every request), ALWAYS (every request is approved) or ALLOWLIST
(requests by the listed emails are approved). The policy is the fold of the benchmark stream's policy events, so
a decision made on a loaded benchmark stream and appended at that stream's version never uses a stale policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from medperf_core.domain.callers import Caller
from medperf_core.domain.events import (
    AssociationApprovedByPolicy,
    BenchmarkAssociationPolicyChanged,
    BenchmarkRegistered,
    DomainEvent,
)
from medperf_core.domain.resources import AUTO_APPROVAL_MODES
from medperf_core.errors import FieldError, PermissionDeniedError, UserError

KINDS = ("dataset", "model")


@attrs.frozen(kw_only=True)
class Rule:
    mode: str = "NEVER"
    allow_list: tuple[str, ...] = ()

    def allows(self, email: str) -> bool:
        if self.mode == "ALWAYS":
            return True
        return self.mode == "ALLOWLIST" and email.lower() in {e.lower() for e in self.allow_list}


@attrs.frozen(kw_only=True)
class Policy:
    owner: int = 0
    version: int = 0
    dataset: Rule = Rule()
    model: Rule = Rule()

    def rule(self, kind: str) -> Rule:
        return self.dataset if kind == "dataset" else self.model


def fold(events: Iterable[DomainEvent]) -> Policy:
    """The policy after a benchmark stream's events (NEVER for both kinds until the owner changes it)."""
    policy = Policy()
    for e in events:
        if isinstance(e, BenchmarkRegistered):
            policy = attrs.evolve(policy, owner=e.owner)
        elif isinstance(e, BenchmarkAssociationPolicyChanged):
            policy = attrs.evolve(
                policy,
                version=e.policy_version,
                dataset=Rule(mode=e.dataset_mode, allow_list=tuple(e.dataset_allow_list)),
                model=Rule(mode=e.model_mode, allow_list=tuple(e.model_allow_list)),
            )
    return policy


def _emails(kind: str, value: Any) -> list[str]:
    emails = [str(e).strip() for e in (value or []) if str(e).strip()]
    bad = [e for e in emails if "@" not in e]
    if bad:
        raise FieldError(f"{kind}_auto_approval_allow_list",
                         f"{kind}_auto_approval_allow_list: {bad[0]!r} is not an email address")
    return sorted(set(emails))


def change(current: Policy, benchmark_id: int, by: Caller, data: Mapping[str, Any]) -> list[DomainEvent]:
    """The owner's new policy; fields not given keep their value. No event when nothing changes."""
    if by.id != current.owner:
        raise PermissionDeniedError(f"only the owner of benchmark {benchmark_id} can change its association policy")
    if not data:
        raise UserError("nothing to change", "give a mode (NEVER, ALWAYS, ALLOWLIST) or an allow list")
    rules: dict[str, Rule] = {}
    for kind in KINDS:
        old = current.rule(kind)
        mode = data.get(f"{kind}_auto_approval_mode", old.mode)
        if mode not in AUTO_APPROVAL_MODES:
            raise FieldError(f"{kind}_auto_approval_mode",
                             f"{kind}_auto_approval_mode: must be one of {', '.join(AUTO_APPROVAL_MODES)}")
        allow = data.get(f"{kind}_auto_approval_allow_list")
        emails = tuple(_emails(kind, allow)) if allow is not None else old.allow_list
        rules[kind] = Rule(mode=mode, allow_list=emails)
    if rules["dataset"] == current.dataset and rules["model"] == current.model:
        return []
    return [BenchmarkAssociationPolicyChanged(
        benchmark_id=benchmark_id, policy_version=current.version + 1,
        dataset_mode=rules["dataset"].mode, dataset_allow_list=list(rules["dataset"].allow_list),
        model_mode=rules["model"].mode, model_allow_list=list(rules["model"].allow_list),
    )]


def auto_approval(
    policy: Policy, *, kind: str, benchmark: int, entity: int, requester: Caller
) -> AssociationApprovedByPolicy | None:
    """The approval the policy grants a fresh request by `requester`, or None (the owner decides)."""
    rule = policy.rule(kind)
    if not rule.allows(requester.email):
        return None
    return AssociationApprovedByPolicy(
        kind=kind, benchmark=benchmark, entity=entity, policy_version=policy.version, mode=rule.mode
    )
