"""Built-in server backends: `rest` (HTTP) and `local` (the server's services in-process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medperf_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from medperf_core.backends.base import ServerBackend
    from medperf_core.hookspecs import ServerBackendFactory
    from medperf_core.profiles import Profile
    from medperf_core.registry import Registry


def _rest(profile: Profile) -> ServerBackend:
    from medperf_core.backends.rest import RestBackend

    return RestBackend(profile)


def _local(profile: Profile) -> ServerBackend:
    from medperf_core.backends.local import LocalBackend

    return LocalBackend(profile)


@hookimpl
def medperf_register_server_backends(register: Registry[ServerBackendFactory]) -> None:
    register("rest", _rest)
    register("local", _local)
