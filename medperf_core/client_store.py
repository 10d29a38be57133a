"""The client's own event log for the active profile, with the local state read from it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medperf_core.store.backends import ClientStorage


def client_store_path(storage: Path) -> Path:
    return storage / "events.db"


def open_client_storage(where: str | Path | None = None, *, audit: bool = False) -> ClientStorage:
    """The log of the active profile (its `store_url`, by default events.db in its storage), or the one given."""
    from medperf_core.profiles import ProfileStore
    from medperf_core.store.backends import open_client_storage as open_storage

    if where is None:
        profile = ProfileStore().active()
        where = profile.store_url or client_store_path(profile.storage)
    return open_storage(where, audit=audit)
