"""Built-in event recorders: `sqlite` (the embedded default, on the server and the client) and `postgresql`
(`postgres`) for servers (needs the `postgres` extra: psycopg 3)."""

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


def _postgresql() -> EventStoreBackend:
    try:
        from medperf_core.store.postgres.backend import PostgresBackend
    except ModuleNotFoundError as e:
        from medperf_core.errors import UserError

        raise UserError(
            f"a PostgreSQL database needs the Python package {e.name!r}, which is not installed",
            "install the extra: pip install 'medperf[server,postgres]'",
        ) from None
    return PostgresBackend()


@hookimpl
def medperf_register_event_recorders(register: Registry[EventStoreFactory]) -> None:
    register("sqlite", _sqlite)
    register("postgresql", _postgresql)
    register("postgres", _postgresql)  # libpq accepts both schemes
