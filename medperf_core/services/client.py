"""The client of one profile: its server backend, its event log and local state, its runner, each opened on use."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medperf_core.domain.events import DomainEvent
from medperf_core.errors import AuthenticationError, ConcurrencyError
from medperf_core.profiles import Profile, ProfileStore

if TYPE_CHECKING:
    from medperf_core.backends.base import ServerBackend
    from medperf_core.containers.runner import Runner
    from medperf_core.plugins import PluginHost
    from medperf_core.services.local_state import LocalState
    from medperf_core.store import EventStore
    from medperf_core.store.backends import ClientStorage


class Client:
    """What every data-owner service receives. Closes its store when used as a context manager."""

    def __init__(self, profile: Profile | None = None, host: PluginHost | None = None) -> None:
        self.profile = profile or ProfileStore().active()
        self._host = host

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            from medperf_core.plugins import get_plugin_host

            self._host = get_plugin_host()
        return self._host

    @cached_property
    def backend(self) -> ServerBackend:
        from medperf_core.backends import get_backend

        if not self.profile.token:
            raise AuthenticationError(
                f"profile {self.profile.name!r} is not logged in", "run: medperf auth login -e EMAIL"
            )
        return get_backend(self.profile, self.host)

    @cached_property
    def _storage(self) -> ClientStorage:
        from medperf_core.client_store import client_store_path
        from medperf_core.store.backends import open_client_storage

        return open_client_storage(self.profile.store_url or client_store_path(self.storage), host=self.host)

    @property
    def store(self) -> EventStore[Any]:
        return self._storage.store

    @property
    def local(self) -> LocalState:
        """What this machine knows from its own log: datasets, executions."""
        return self._storage.reads

    @cached_property
    def me(self) -> dict[str, Any]:
        return self.backend.me()

    @property
    def actor(self) -> str:
        return self.profile.email or "anonymous"

    @cached_property
    def runner(self) -> Runner:
        runner: Runner = self.host.runners.get(self.profile.platform)()
        runner.check_available()
        return runner

    @property
    def storage(self) -> Path:
        return self.profile.storage

    def record(self, stream: str, expected_version: int, *events: DomainEvent) -> int:
        """Append to a stream of the client's log at the version the command loaded and decided on; returns the
        stream's new version (for the command's next decision on the same stream)."""
        try:
            self.store.append(stream, expected_version, list(events), self.actor)
            return expected_version + len(events)
        except ConcurrencyError as e:
            raise ConcurrencyError(
                f"{stream} changed while this command ran (another medperf command on this machine?)",
                "wait for the other command to finish, then run this one again",
            ) from e

    def close(self) -> None:
        if "_storage" in self.__dict__:
            self.store.close()
        backend = self.__dict__.get("backend")
        if backend is not None and hasattr(backend, "close"):
            backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
