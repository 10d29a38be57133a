"""Built-in auth providers: `local` (tutorial demo users) and `jwt` (RS256 tokens)."""

from __future__ import annotations

from typing import Any

from medperf_core.hookspecs import hookimpl


def _local(settings: Any) -> Any:
    from medperf_core.server.auth import LocalAuthProvider

    return LocalAuthProvider(settings)


def _jwt(settings: Any) -> Any:
    from medperf_core.server.auth import JwtAuthProvider

    return JwtAuthProvider(settings)


@hookimpl
def medperf_register_auth_providers(register: Any) -> None:
    register("local", _local)
    register("jwt", _jwt)
