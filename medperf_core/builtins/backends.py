"""Built-in server backends: `rest` (HTTP) and `local` (the server's services in-process)."""

from __future__ import annotations

from typing import Any

from medperf_core.hookspecs import hookimpl


def _rest(profile: Any) -> Any:
    from medperf_core.backends.rest import RestBackend

    return RestBackend(profile)


def _local(profile: Any) -> Any:
    from medperf_core.backends.local import LocalBackend

    return LocalBackend(profile)


@hookimpl
def medperf_register_server_backends(register: Any) -> None:
    register("rest", _rest)
    register("local", _local)
