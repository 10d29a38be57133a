"""Rules shared by every registered entity's updates: what changed, frozen fields, never back to development."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from medperf_core.domain.resources import Resource
from medperf_core.errors import InvalidTransitionError, UserError


def changed(current: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `wanted` whose value differs from the entity's (clients resend whole objects)."""
    values = attrs.asdict(current)
    return {k: v for k, v in wanted.items() if values.get(k) != v}


def check_operational_rules(
    resource: Resource, what: str, current: Any, changes: Mapping[str, Any], state: str | None, hint: str | None
) -> None:
    """Once operational, frozen fields keep their values and the state never goes back."""
    if current.state != "OPERATION":
        return
    frozen = [f for f in resource.frozen() if f in changes]
    if frozen:
        raise InvalidTransitionError(f"{what} is operational: {', '.join(frozen)} can no longer change", hint)
    if state == "DEVELOPMENT":
        raise UserError(f"{what} is operational and cannot go back to DEVELOPMENT")
