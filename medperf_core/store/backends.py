"""Event-store backends, the plugins behind the recorder seam, and how a database URL chooses one.

A backend is registered under a name with the `medperf_register_event_recorders` hook; a database URL names it by
its scheme (`sqlite:///var/lib/medperf/events.db`, `memory:`). A plain path means SQLite.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from medperf_core.errors import UserError
from medperf_core.store.recorder import Recorder
from medperf_core.store.store import EventStore

if TYPE_CHECKING:
    from medperf_core.plugins import PluginHost
    from medperf_core.store.local_state import LocalState
    from medperf_core.store.server_read_model import ServerReadModel

DEFAULT_BACKEND = "sqlite"


@attrs.frozen
class ServerStorage:
    """A server's log with its read model."""

    store: EventStore[Any]
    reads: ServerReadModel


@attrs.frozen
class ClientStorage:
    """A client's log with the local state read from it."""

    store: EventStore[Any]
    reads: LocalState


class EventStoreBackend(Protocol):
    """What a recorder plugin registers: its recorder, and (optionally) the read models it can keep."""

    def open_recorder(self, location: str) -> Recorder[Any]:
        """The bare log at `location` (what follows the URL's `scheme:`), for audits and the contract tests."""

    def open_server(self, location: str, *, audit: bool = False) -> ServerStorage:
        """A server's log with its read model; raise UserError if this backend cannot hold one."""

    def open_client(self, location: str, *, audit: bool = False) -> ClientStorage:
        """A client's log with its local state; raise UserError if this backend cannot hold one."""


@runtime_checkable
class ResetsServers(Protocol):
    """An event-store backend that can delete a server's state (`medperf server reset`)."""

    def describe_server(self, location: str) -> int | None:
        """How many events the server's log at `location` holds (None: there is none)."""
        ...

    def reset_server(self, location: str) -> list[str]:
        """Delete the server's log and read model; returns what was removed."""
        ...


@runtime_checkable
class KnowsItsServers(Protocol):
    """An event-store backend that can tell whether a server runs on a log: a running server holds it shared, a
    reset claims it alone (or refuses with ConflictError naming who holds it); both end with their process."""

    def hold_server(self, location: str, shown: str) -> AbstractContextManager[None]:
        """Held by a running server (`medperf server start`) on the log at `location`."""
        ...

    def claim_server(self, location: str, shown: str) -> AbstractContextManager[None]:
        """Held by `medperf server reset` while it resets; ConflictError while a server holds the log."""
        ...


def parse_url(url: str | Path) -> tuple[str, str]:
    """(backend name, location): `sqlite:///abs/path` → ("sqlite", "/abs/path"); a plain path → SQLite."""
    text = str(url)
    scheme, sep, rest = text.partition(":")
    if not sep or len(scheme) < 2 or "/" in scheme or "\\" in scheme:  # a path (C:\... has a one-letter scheme)
        return DEFAULT_BACKEND, text
    if rest.startswith("//"):
        rest = rest[2:]
    return scheme.lower(), rest


def redact_url(url: str) -> str:
    """The URL without its password (`postgresql://user:***@host/db`), for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def backend_for(url: str | Path, host: PluginHost | None = None) -> tuple[EventStoreBackend, str]:
    """The backend registered for the URL's scheme, and the location to open with it."""
    from medperf_core.plugins import get_plugin_host

    name, location = parse_url(url)
    registry = (host or get_plugin_host()).event_recorders
    if name not in registry:
        known = ", ".join(registry.names()) or "none"
        raise UserError(
            f"no event recorder for {name!r} URLs ({url})",
            f"known: {known}; install the plugin that provides {name!r} or use sqlite:///PATH",
        )
    backend: EventStoreBackend = registry.get(name)()
    return backend, location


def open_server_storage(url: str | Path, *, audit: bool = False, host: PluginHost | None = None) -> ServerStorage:
    backend, location = backend_for(url, host)
    return backend.open_server(location, audit=audit)


def open_client_storage(url: str | Path, *, audit: bool = False, host: PluginHost | None = None) -> ClientStorage:
    backend, location = backend_for(url, host)
    return backend.open_client(location, audit=audit)
