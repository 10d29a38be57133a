"""Built-in event recorders: `sqlite` (the embedded default, on the server and the client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medperf_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from medperf_core.hookspecs import EventStoreFactory
    from medperf_core.registry import Registry
    from medperf_core.store.backends import EventStoreBackend


def _sqlite() -> EventStoreBackend:
    from medperf_core.store.sqlite.backend import SQLiteBackend

    return SQLiteBackend()


@hookimpl
def medperf_register_event_recorders(register: Registry[EventStoreFactory]) -> None:
    register("sqlite", _sqlite)
