"""Built-in auth providers: `local` (tutorial demo users) and `jwt` (RS256 tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medperf_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from medperf_core.hookspecs import AuthProviderFactory
    from medperf_core.registry import Registry
    from medperf_core.server.auth import AuthProvider
    from medperf_core.server.settings import ServerSettings


def _local(settings: ServerSettings) -> AuthProvider:
    from medperf_core.server.auth import LocalAuthProvider

    return LocalAuthProvider(settings)


def _jwt(settings: ServerSettings) -> AuthProvider:
    from medperf_core.server.auth import JwtAuthProvider

    return JwtAuthProvider(settings)


@hookimpl
def medperf_register_auth_providers(register: Registry[AuthProviderFactory]) -> None:
    register("local", _local)
    register("jwt", _jwt)
