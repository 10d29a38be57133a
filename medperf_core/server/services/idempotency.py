"""Idempotency keys: a write that carries `Idempotency-Key` records the key in the log, in the same transaction as
what it created; the same key again answers with that entity instead of creating a second one.

The key is a stream of its own (`idempotency-<user>-<sha256(key)>`) holding one `IdempotencyKeyRecorded` event,
appended at version 0: two requests with one key racing each other cannot both record it (the loser's whole append
fails and it answers with the winner's entity). Reading it back is a stream load, so it survives restarts and is
the same for every worker process and every recorder backend.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs

from medperf_core.domain import streams
from medperf_core.domain.events import IdempotencyKeyRecorded
from medperf_core.errors import ConflictError, FieldError, IntegrityError
from medperf_core.store import EventStore
from medperf_core.store.store import Append

HEADER = "Idempotency-Key"
MAX_KEY = 255


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise FieldError(HEADER, f"{HEADER}: must be 1 to {MAX_KEY} printable characters (e.g. a UUID)")
    return key


@attrs.frozen
class Claim:
    """One request's key, scoped to the user who sent it, with a fingerprint of what it asks."""

    key: str
    user_id: int
    operation: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, user_id: int, operation: str, body: Any) -> Claim:
        canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"), default=str)
        return cls(check_key(key), user_id, operation, hashlib.sha256(canonical.encode()).hexdigest())

    @property
    def stream(self) -> str:
        return streams.idempotency(self.user_id, self.key)

    def append(self, answer: dict[str, Any]) -> Append:
        event = IdempotencyKeyRecorded(key=self.key, user_id=self.user_id, operation=self.operation,
                                       fingerprint=self.fingerprint, answer=answer)
        return Append(self.stream, 0, [event])


def recorded(store: EventStore[Any], claim: Claim | None) -> dict[str, Any] | None:
    """What the first request with this key created, or None when the key is new."""
    if claim is None:
        return None
    events, _version = store.load(claim.stream)
    if not events:
        return None
    first = events[0]
    if not isinstance(first, IdempotencyKeyRecorded):
        raise IntegrityError(f"{claim.stream} holds a {first.type} event, not an idempotency key",
                             "check the log: medperf events verify")
    if first.operation != claim.operation or first.fingerprint != claim.fingerprint:
        raise ConflictError(
            f"{HEADER} {claim.key!r} was already used for a different request ({first.operation})",
            "send a new key with every new request; repeat a key only to retry the very same request",
        )
    return dict(first.answer)
