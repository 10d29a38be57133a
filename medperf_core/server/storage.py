"""Where the server keeps its state: a database URL, by default an SQLite file (events.db) in the data directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
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


@contextmanager
def serving(where: str | Path) -> Iterator[None]:
    """Held by `medperf server start` while the server runs on `where`, so that `server reset` refuses meanwhile
    (nothing is held for a plugin's recorder that cannot tell)."""
    from medperf_core.store.backends import KnowsItsServers, backend_for, redact_url

    url = database_url(where)
    backend, location = backend_for(url)
    with backend.hold_server(location, redact_url(url)) if isinstance(backend, KnowsItsServers) else nullcontext():
        yield


def reset_server(where: str | Path, *, confirm: Callable[[str], None]) -> tuple[str, list[str]] | None:
    """Delete a server's state: the SQLite file (and side files) of a data directory or `sqlite://` URL, or
    medperf's tables in a PostgreSQL database (created again, empty). Refuses (ConflictError) while a server runs
    on it; `confirm(question)` is asked first and raises to cancel. Returns (where, what was removed), or None when
    there was nothing to reset."""
    from medperf_core.errors import UserError
    from medperf_core.store.backends import KnowsItsServers, ResetsServers, backend_for, redact_url

    url = database_url(where)
    backend, location = backend_for(url)
    if not isinstance(backend, ResetsServers):
        raise UserError(f"the event recorder of {redact_url(url)} cannot reset a server",
                        "reset it with the database's own tools")
    shown = str(where) if isinstance(where, Path) else redact_url(url)
    with backend.claim_server(location, shown) if isinstance(backend, KnowsItsServers) else nullcontext():
        events = backend.describe_server(location)
        if events is None:
            return None
        confirm(f"Delete every event of the server ({events} events) in {shown}?")
        return shown, list(backend.reset_server(location))
