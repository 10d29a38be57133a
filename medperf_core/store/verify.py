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
    before: dict[str, Any] = {"position": 0, "hash": GENESIS_HASH}
    checked = 0
    for row in rows:
        problem = tail_problem(before, row)
        if problem:
            moved = row["position"] != before["position"] + 1
            return VerifyReport(False, checked, before["position"] + 1 if moved else row["position"], problem)
        before = row
        checked += 1
    return VerifyReport(True, checked, head=before["hash"])


def tail_problem(before: dict[str, Any], row: dict[str, Any]) -> str | None:
    """What is wrong with a stored row that follows `before` (position 0 and the genesis hash: none), or None.
    `verify_rows` applies it along the whole chain; a recorder applies it to the last row before it appends."""
    expected_position = before["position"] + 1
    if row["position"] != expected_position:
        return f"expected position {expected_position}, found {row['position']} (a row is missing or moved)"
    if row["prev_hash"] != before["hash"]:
        return "prev_hash does not match the previous event's hash"
    try:
        payload = json.loads(row["payload"])
    except (TypeError, ValueError):
        return "payload is not valid JSON"
    if not isinstance(payload, dict) or canonical_json(payload) != row["payload"]:
        return "payload is not in canonical form"
    if event_hash(before["hash"], {**row, "payload": payload}) != row["hash"]:
        return "hash does not match the event's contents"
    return None
