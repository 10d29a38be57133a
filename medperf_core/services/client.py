"""The client of one profile: its server backend, its event log and local state, its runner, each opened on use."""

from __future__ import annotations

import os
import sys
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medperf_core.domain.events import DomainEvent
from medperf_core.errors import AuthenticationError, ConcurrencyError, ServerError
from medperf_core.profiles import Profile, ProfileStore

if TYPE_CHECKING:
    from medperf_core.backends.base import ServerBackend
    from medperf_core.containers.runner import Runner
    from medperf_core.plugins import PluginHost
    from medperf_core.store import EventStore
    from medperf_core.store.backends import ClientStorage
    from medperf_core.store.local_state import LocalState


OFFLINE_ENV = "MEDPERF_OFFLINE"


def is_offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes")


def _to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


class Client:
    """What every data-owner service receives. Closes its store when used as a context manager."""

    def __init__(
        self, profile: Profile | None = None, host: PluginHost | None = None, *, offline: bool | None = None,
        flush: bool = True,
    ) -> None:
        """`offline`: never talk to the server (default: MEDPERF_OFFLINE, set by `medperf --offline`);
        `flush`: send this machine's pending requests before the first use of the server."""
        self.profile = profile or ProfileStore().active()
        self._host = host
        self.offline = is_offline() if offline is None else offline
        self._flush = flush
        # The requests earlier commands left pending that this one sent, each with the server's answer: a command
        # re-run after a kill finds its own request among them (see outbox.earlier_attempt).
        self.delivered: list[dict[str, Any]] = []

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            from medperf_core.plugins import get_plugin_host

            self._host = get_plugin_host()
        return self._host

    @property
    def backend(self) -> ServerBackend:
        """The server; the first use sends the requests an earlier command left pending (their answers come
        before anything this command asks)."""
        backend = self._backend
        if self._flush:
            self._flush = False
            from medperf_core.services.outbox import finish_pending, pending

            if pending(self):
                sys.stderr.write("Sending the requests an earlier command left pending:\n")
                finish_pending(self, say=_to_stderr)
        return backend

    def flush_pending(self) -> None:
        """Send what earlier commands left pending now (online only), before this command decides anything."""
        if not self.offline:
            self.backend  # noqa: B018 (the first use flushes)

    def waiting(self, operation: str, **context: Any) -> dict[str, Any] | None:
        """A pending request of this kind about the same thing (e.g. the result uid), if one waits."""
        for row in self.local.requests("pending"):
            if row["operation"] == operation and all(row["context"].get(k) == v for k, v in context.items()):
                return row
        return None

    @cached_property
    def _backend(self) -> ServerBackend:
        from medperf_core.backends import get_backend

        if self.offline:
            raise ServerError(
                "offline: this needs the server", "run it again online (without --offline / MEDPERF_OFFLINE)"
            )
        if not self.profile.token:
            raise AuthenticationError(
                f"profile {self.profile.name!r} is not logged in", "run: medperf auth login -e EMAIL"
            )
        return get_backend(self.profile, self.host)

    @cached_property
    def _storage(self) -> ClientStorage:
        from medperf_core.client_store import client_store_path
        from medperf_core.store.backends import open_client_storage

        storage = open_client_storage(self.profile.store_url or client_store_path(self.storage), host=self.host)
        # A log altered by hand: the command does nothing at all, since it may tell the server something before
        # its first append (`medperf events ...` still reads the log, to see where).
        from medperf_core.store.recorder import GuardsAgainstEdits

        recorder = storage.store.recorder
        try:
            if isinstance(recorder, GuardsAgainstEdits):
                recorder.check_untouched()
        except BaseException:
            storage.store.close()
            raise
        return storage

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
        from medperf_core.backends.base import ClosableBackend

        backend = self.__dict__.get("_backend")
        if isinstance(backend, ClosableBackend):
            backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
