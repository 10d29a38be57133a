"""Walk the hash chain of a log and name the first position where it breaks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs

from medperf_core.store.canonical import GENESIS_HASH, canonical_json, event_hash


@attrs.frozen
class VerifyReport:
    ok: bool
    checked: int
    bad_position: int | None = None
    reason: str = ""
    head: str = GENESIS_HASH  # hash of the last event checked: keep it elsewhere to detect a truncated log

    def summary(self) -> str:
        if self.ok:
            return f"event log intact: {self.checked} events, hash chain verified, head {self.head}"
        return f"event log broken at position {self.bad_position}: {self.reason}"


def verify_rows(rows: Iterable[dict[str, Any]]) -> VerifyReport:
    """Rows as stored, in position order. Every check that fails names the row's position (or its slot)."""
    expected_prev = GENESIS_HASH
    expected_position = 1
    checked = 0
    for row in rows:
        position = row["position"]
        if position != expected_position:
            return VerifyReport(False, checked, expected_position,
                                f"expected position {expected_position}, found {position} (a row is missing or moved)")
        if row["prev_hash"] != expected_prev:
            return VerifyReport(False, checked, position, "prev_hash does not match the previous event's hash")
        try:
            payload = json.loads(row["payload"])
        except (TypeError, ValueError):
            return VerifyReport(False, checked, position, "payload is not valid JSON")
        if not isinstance(payload, dict) or canonical_json(payload) != row["payload"]:
            return VerifyReport(False, checked, position, "payload is not in canonical form")
        digest = event_hash(expected_prev, {**row, "payload": payload})
        if digest != row["hash"]:
            return VerifyReport(False, checked, position, "hash does not match the event's contents")
        expected_prev = row["hash"]
        expected_position += 1
        checked += 1
    return VerifyReport(True, checked, head=expected_prev)
