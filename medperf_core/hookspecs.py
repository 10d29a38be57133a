"""The hook specifications every medperf plugin implements a subset of.

A plugin is a module or object with functions decorated by `medperf_core.hookimpl` and named like the specs
below. Third-party plugins are found through the `medperf` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from medperf_core.backends.base import ServerBackend
    from medperf_core.containers.runner import ImageOwner, Runner
    from medperf_core.profiles import Profile
    from medperf_core.registry import Registry
    from medperf_core.server.auth import AuthProvider
    from medperf_core.server.settings import ServerSettings
    from medperf_core.store.backends import EventStoreBackend

# What each registry holds: factories, called when the thing is needed (so that `medperf --help` stays light).
RunnerFactory = Callable[[], "Runner"]
ServerBackendFactory = Callable[["Profile"], "ServerBackend"]
AuthProviderFactory = Callable[["ServerSettings"], "AuthProvider"]
EventStoreFactory = Callable[[], "EventStoreBackend"]
ImageOwnerFactory = Callable[[], "ImageOwner"]

PROJECT = "medperf"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def medperf_register_runners(register: Registry[RunnerFactory]) -> None:
    """Register container runners.

    :param register: call ``register(name, factory)``; ``factory()`` returns an object implementing
        ``medperf_core.containers.runner.Runner``. ``name`` is what profiles use for ``--platform``
        (``docker``, ``singularity``). A name registered twice is an error.
    """


@hookspec
def medperf_register_image_owners(register: Registry[ImageOwnerFactory]) -> None:
    """Register what cleans up after a runner: the images it built or pulled on its engine for this home.

    :param register: call ``register(name, factory)``; ``factory()`` returns an object implementing
        ``medperf_core.containers.runner.ImageOwner``. ``storage ls`` lists its images and ``storage cleanup
        --images`` removes them through it. Usually ``name`` is the runner's.
    """


@hookspec
def medperf_register_server_backends(register: Registry[ServerBackendFactory]) -> None:
    """Register server backends, the ways the client reaches a server.

    :param register: call ``register(name, factory)``; ``factory(profile)`` returns an object implementing
        ``medperf_core.backends.base.ServerBackend``. Built-ins: ``rest`` and ``local``.
    """


@hookspec
def medperf_register_auth_providers(register: Registry[AuthProviderFactory]) -> None:
    """Register server-side auth providers, which turn a bearer token into a user.

    :param register: call ``register(name, factory)``; ``factory(settings)`` returns an object implementing
        ``medperf_core.server.auth.AuthProvider``. Built-ins: ``local`` and ``jwt``.
    """


@hookspec
def medperf_register_event_recorders(register: Registry[EventStoreFactory]) -> None:
    """Register event-store backends: where the server's and the client's event logs live.

    :param register: call ``register(name, factory)``; ``factory()`` returns an object implementing
        ``medperf_core.store.backends.EventStoreBackend`` (its recorder must pass
        ``medperf_core.testing.recorder_contract.RecorderContract``). ``name`` is the scheme of the database URLs
        it serves (``sqlite`` for ``sqlite:///path/events.db``). Built-in: ``sqlite``.
    """


@hookspec
def medperf_register_commands(app: typer.Typer) -> None:
    """Add command groups or commands to the ``medperf`` typer app.

    :param app: the root typer application; call ``app.add_typer(...)`` or ``app.command()(...)``.
        Keep imports inside the commands light: ``medperf --help`` loads every plugin.
    """
