"""Where the server keeps its state: one event store file (events.db) in the data directory."""

from __future__ import annotations

from pathlib import Path

from medperf_core.config import medperf_home
from medperf_core.store import EventStore

EVENTS_FILE = "events.db"


def default_data_dir() -> Path:
    return medperf_home() / "server"


def open_server_store(data_dir: Path, *, audit: bool = False) -> EventStore:
    """The server's event store with its read model (created on first use)."""
    from medperf_core.server.projections import SERVER_PROJECTIONS

    data_dir.mkdir(parents=True, exist_ok=True)
    return EventStore(data_dir / EVENTS_FILE, SERVER_PROJECTIONS, audit=audit)


def reset_data_dir(data_dir: Path) -> list[Path]:
    """Delete the event store and its WAL/SHM side files; returns what was removed. Other files stay."""
    removed = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = data_dir / f"{EVENTS_FILE}{suffix}"
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
