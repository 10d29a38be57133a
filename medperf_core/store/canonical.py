"""Canonical JSON and the hash chain, exactly as events/LOG-FORMAT.md specifies them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

# The fields of a row that its hash covers, in the order LOG-FORMAT.md lists them (the JSON sorts keys anyway).
HASHED_FIELDS = ("position", "stream", "version", "type", "schema_version", "recorded_at", "actor", "payload")

# What json.dumps(value, <these options>) builds on every call, built once: the same text, without a new encoder
# per call.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_encode_string = json.encoder.encode_basestring  # the encoder's own function for a str, with ensure_ascii=False

def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text (non-ASCII kept), no NaN/Infinity."""
    return _ENCODE(value)


def canonical_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """sha256 over the previous hash as 64 ASCII hex characters followed by the row's canonical bytes."""
    body = {name: row[name] for name in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(body)).hexdigest()


def _member(value: Any) -> str:
    if isinstance(value, str):
        return _encode_string(value)  # what the encoder writes for a str
    return str(value) if type(value) is int else _ENCODE(value)  # an int's canonical text is its decimal digits


def chained_hash(
    prev_hash: str, *, position: int, stream: str, version: int, event_type: str, schema_version: int,
    recorded_at: str, actor: str, payload_json: str,
) -> str:
    """`event_hash` of that row, given its payload's canonical text (which the caller made to store it): the same
    bytes hashed, without encoding the payload again. The members stand in canonical (sorted) order; their names
    are ASCII identifiers, so each is its own JSON key."""
    if (type(actor) is str and type(recorded_at) is str and type(stream) is str and type(event_type) is str
            and type(position) is int and type(schema_version) is int and type(version) is int):
        enc = _encode_string  # the usual row: its strings encoded, its ints their digits
        a, r, s, t = enc(actor), enc(recorded_at), enc(stream), enc(event_type)
        p, n, v = str(position), str(schema_version), str(version)
    else:
        a, r, s, t, p, n, v = map(_member, (actor, recorded_at, stream, event_type, position, schema_version, version))
    body = (
        f'{{"actor":{a},"payload":{payload_json},"position":{p},"recorded_at":{r},"schema_version":{n},'
        f'"stream":{s},"type":{t},"version":{v}}}'
    )
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()
