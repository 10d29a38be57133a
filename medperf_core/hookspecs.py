"""The hook specifications every medperf plugin implements a subset of.

A plugin is a module or object with functions decorated by `medperf_core.hookimpl` and named like the specs
below. Third-party plugins are found through the `medperf` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

    from medperf_core.registry import Registry

PROJECT = "medperf"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def medperf_register_runners(register: Registry[Any]) -> None:
    """Register container runners.

    :param register: call ``register(name, factory)``; ``factory()`` returns an object implementing
        ``medperf_core.containers.runner.Runner``. ``name`` is what profiles use for ``--platform``
        (``docker``, ``singularity``). A name registered twice is an error.
    """


@hookspec
def medperf_register_server_backends(register: Registry[Any]) -> None:
    """Register server backends, the ways the client reaches a server.

    :param register: call ``register(name, factory)``; ``factory(profile)`` returns an object implementing
        ``medperf_core.backends.base.ServerBackend``. Built-ins: ``rest`` and ``local``.
    """


@hookspec
def medperf_register_auth_providers(register: Registry[Any]) -> None:
    """Register server-side auth providers, which turn a bearer token into a user.

    :param register: call ``register(name, factory)``; ``factory(settings)`` returns an object implementing
        ``medperf_core.server.auth.AuthProvider``. Built-ins: ``local`` and ``jwt``.
    """


@hookspec
def medperf_register_commands(app: typer.Typer) -> None:
    """Add command groups or commands to the ``medperf`` typer app.

    :param app: the root typer application; call ``app.add_typer(...)`` or ``app.command()(...)``.
        Keep imports inside the commands light: ``medperf --help`` loads every plugin.
    """
