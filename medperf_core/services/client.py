"""The client of one profile: its server backend, its event log and its runner, each opened on first use."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medperf_core.domain.events import DomainEvent
from medperf_core.errors import AuthenticationError
from medperf_core.profiles import Profile, ProfileStore

if TYPE_CHECKING:
    from medperf_core.backends.base import ServerBackend
    from medperf_core.containers.runner import Runner
    from medperf_core.store import EventStore


class Client:
    """What every data-owner service receives. Closes its store when used as a context manager."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile or ProfileStore().active()

    @cached_property
    def backend(self) -> ServerBackend:
        from medperf_core.backends import get_backend

        if not self.profile.token:
            raise AuthenticationError(
                f"profile {self.profile.name!r} is not logged in", "run: medperf auth login -e EMAIL"
            )
        return get_backend(self.profile)

    @cached_property
    def store(self) -> EventStore:
        from medperf_core.client_store import open_client_store

        return open_client_store()

    @cached_property
    def me(self) -> dict[str, Any]:
        return self.backend.me()

    @property
    def actor(self) -> str:
        return self.profile.email or "anonymous"

    @cached_property
    def runner(self) -> Runner:
        from medperf_core.plugins import get_plugin_host

        runner: Runner = get_plugin_host().runners.get(self.profile.platform)()
        runner.check_available()
        return runner

    @property
    def storage(self) -> Path:
        return self.profile.storage

    def record(self, stream: str, *events: DomainEvent) -> None:
        """Append to a stream of the client's log at its current version."""
        self.store.append(stream, self.store.stream_version(stream), list(events), self.actor)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        backend = self.__dict__.get("backend")
        if backend is not None and hasattr(backend, "close"):
            backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
