"""Canonical JSON and the hash chain, exactly as events/LOG-FORMAT.md specifies them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

# The fields of a row that its hash covers, in the order LOG-FORMAT.md lists them (the JSON sorts keys anyway).
HASHED_FIELDS = ("position", "stream", "version", "type", "schema_version", "recorded_at", "actor", "payload")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text (non-ASCII kept), no NaN/Infinity."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """sha256 over the previous hash as 64 ASCII hex characters followed by the row's canonical bytes."""
    body = {name: row[name] for name in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(body)).hexdigest()
