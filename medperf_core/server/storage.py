"""Where the server keeps its state: a database URL, by default an SQLite file (events.db) in the data directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from medperf_core.config import medperf_home

if TYPE_CHECKING:
    from medperf_core.plugins import PluginHost
    from medperf_core.store.backends import ServerStorage

EVENTS_FILE = "events.db"


def default_data_dir() -> Path:
    return medperf_home() / "server"


def database_url(where: str | Path) -> str:
    """A data directory means its SQLite file; anything else is already a database URL."""
    if isinstance(where, Path):
        return f"sqlite://{where / EVENTS_FILE}"
    return where


def open_server_storage(
    where: str | Path, *, audit: bool = False, host: PluginHost | None = None
) -> ServerStorage:
    """The server's event store and read model (created on first use)."""
    from medperf_core.store.backends import open_server_storage as open_storage

    if isinstance(where, Path):
        where.mkdir(parents=True, exist_ok=True)
    return open_storage(database_url(where), audit=audit, host=host)


def reset_data_dir(data_dir: Path) -> list[Path]:
    """Delete the event store and its WAL/SHM side files; returns what was removed. Other files stay."""
    removed = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = data_dir / f"{EVENTS_FILE}{suffix}"
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
