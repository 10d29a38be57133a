"""The shapes the recorder stores and returns."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class NewEvent:
    """An event mapped to storable form, not yet positioned or chained."""

    type: str
    schema_version: int
    payload: dict[str, Any]
    actor: str
    recorded_at: str
    # canonical_json(payload), when the mapper made it: the recorder stores and hashes it as it is instead of
    # encoding the payload again. None: the recorder encodes the payload.
    payload_json: str | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class StoredEvent:
    """One row of the log. `hash = sha256(prev_hash ‖ canonical_bytes(row without hash))`, see LOG-FORMAT.md."""

    position: int
    stream: str
    version: int
    type: str
    schema_version: int
    recorded_at: str
    actor: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def as_row(self) -> dict[str, Any]:
        return attrs.asdict(self)
