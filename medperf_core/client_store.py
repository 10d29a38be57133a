"""The client's own event store for the active profile, with its local projections."""

from __future__ import annotations

from pathlib import Path

from medperf_core.store import EventStore


def client_store_path(storage: Path) -> Path:
    return storage / "events.db"


def open_client_store(path: Path | None = None, *, audit: bool = False) -> EventStore:
    """Open the event log of the active profile (or the file given), with the client's projections."""
    from medperf_core.local_projections import CLIENT_PROJECTIONS
    from medperf_core.profiles import ProfileStore

    if path is None:
        path = client_store_path(ProfileStore().active().storage)
    return EventStore(path, CLIENT_PROJECTIONS, audit=audit)
