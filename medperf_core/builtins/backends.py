"""Built-in server backends: `rest` (HTTP) and `local` (the server's services in-process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from medperf_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from medperf_core.backends.base import ServerBackend
    from medperf_core.hookspecs import ServerBackendFactory
    from medperf_core.profiles import Profile
    from medperf_core.registry import Registry


def _rest(profile: Profile) -> ServerBackend:
    from medperf_core.backends.rest import RestBackend

    # Its methods are made from the endpoint table's rows, which mypy cannot follow; tests/server/
    # test_endpoint_table.py checks that both backends have every method of the Protocol.
    return cast("ServerBackend", RestBackend(profile))


def _local(profile: Profile) -> ServerBackend:
    from medperf_core.backends.local import LocalBackend

    return cast("ServerBackend", LocalBackend(profile))


@hookimpl
def medperf_register_server_backends(register: Registry[ServerBackendFactory]) -> None:
    register("rest", _rest)
    register("local", _local)
