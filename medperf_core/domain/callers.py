"""Who acts: the authenticated user a request or command acts as."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class Caller:
    id: int
    email: str
    is_staff: bool = False

    @property
    def actor(self) -> str:
        """What the event log records as the actor."""
        return self.email
