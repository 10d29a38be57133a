"""Server settings: where the data lives and how callers authenticate; passed to worker processes by environment."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import attrs

from medperf_core.errors import ConfigError

AUTH_MODES = ("local", "jwt")
SETTINGS_ENV = "MEDPERF_SERVER_SETTINGS"  # JSON of ServerSettings, set by `server start --workers N` for its workers
DECISION_DELAY_ENV = "MEDPERF_SERVER_DECISION_DELAY"  # tests only: seconds between deciding and appending
_PATHS = ("data_dir", "jwt_public_key", "jwt_jwks")


@attrs.frozen(kw_only=True)
class ServerSettings:
    data_dir: Path
    database: str | None = None  # a database URL; default: sqlite in data_dir (events.db)
    auth: str = "local"
    jwt_public_key: Path | None = None  # a PEM file with the RS256 public key
    jwt_jwks: Path | None = None  # or a JWKS file (keys chosen by `kid`)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_admin_emails: tuple[str, ...] = ()  # these emails are admins, decided at every request
    jwt_admin_claim: str | None = None  # `NAME` (claim is true) or `NAME=VALUE` (equals, or a list holding it)
    jwt_email_claim: str | None = None  # the claim holding the email; default: `email`, else MedPerf's claim
    public_url: str | None = None  # `https://host[:port]` the server's stored files are published under
    threads: int | None = None  # per process, for requests' blocking work; None: by database (server/runtime.py)
    max_file_mb: float = 100  # one upload to /files/ at most (server/files.py says why 100)
    files_grace_hours: float = 168  # an unreferenced stored file is removed once this old (at start-up)

    def to_json(self) -> str:
        """One line of JSON that `from_json` turns back into equal settings (paths as strings)."""
        return json.dumps(
            attrs.asdict(self, value_serializer=lambda _i, _a, v: str(v) if isinstance(v, Path) else v)
        )

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        raw: dict[str, Any] = json.loads(text)
        values: dict[str, Any] = {k: Path(v) if k in _PATHS and v is not None else v for k, v in raw.items()}
        values["jwt_admin_emails"] = tuple(raw.get("jwt_admin_emails", ()))
        return cls(**values)

    @classmethod
    def from_env(cls) -> ServerSettings:
        """The settings a worker process was started with (`SETTINGS_ENV`)."""
        text = os.environ.get(SETTINGS_ENV)
        if not text:
            raise ConfigError(f"{SETTINGS_ENV} is not set", "start the server with: medperf server start")
        return cls.from_json(text)


def decision_delay_seconds() -> float:
    """MEDPERF_SERVER_DECISION_DELAY as seconds (0 when unset); ConfigError when it is not a number."""
    raw = os.environ.get(DECISION_DELAY_ENV, "").strip()
    if not raw:
        return 0.0
    try:
        return max(float(raw), 0.0)
    except ValueError:
        raise ConfigError(
            f"{DECISION_DELAY_ENV}={raw!r} is not a number of seconds", "unset it or use e.g. 0.3"
        ) from None


COMMIT_DELAY_ENV = "MEDPERF_SERVER_COMMIT_DELAY"


def commit_delay_seconds() -> float:
    """MEDPERF_SERVER_COMMIT_DELAY as seconds (0 when unset or not a number)."""
    raw = os.environ.get(COMMIT_DELAY_ENV, "").strip()
    try:
        return max(float(raw), 0.0) if raw else 0.0
    except ValueError:
        return 0.0


@attrs.frozen
class FaultInjection:
    """Pauses that tests put into the write path, read from the environment once, when the services are made.

    `decision_delay`: between a service deciding on the state it read and appending its events, so that writers in
    different server processes deterministically decide on the same state (race tests).
    `commit_delay`: after a write is committed and before it is answered, so that a client can be killed exactly
    between the server's commit and its answer (crash trials)."""

    decision_delay: float = 0.0
    commit_delay: float = 0.0

    @classmethod
    def from_env(cls) -> FaultInjection:
        return cls(decision_delay_seconds(), commit_delay_seconds())

    def after_decision(self) -> None:
        if self.decision_delay:
            time.sleep(self.decision_delay)

    def after_commit(self) -> None:
        if self.commit_delay:
            time.sleep(self.commit_delay)
