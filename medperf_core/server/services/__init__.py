"""The server's use cases, one service per entity, over one event store and its read model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from medperf_core.domain.callers import Caller
from medperf_core.server.services.associations import AssociationService
from medperf_core.server.services.benchmarks import BenchmarkService
from medperf_core.server.services.containers import ContainerService
from medperf_core.server.services.datasets import DatasetService
from medperf_core.server.services.results import ResultService
from medperf_core.server.services.users import UserService
from medperf_core.server.services.writer import Writer
from medperf_core.server.settings import FaultInjection
from medperf_core.store import EventStore
from medperf_core.store.server_read_model import Json, Page, ServerReadModel

if TYPE_CHECKING:
    from medperf_core.plugins import PluginHost


@attrs.frozen
class ServerServices:
    """The services wired together; safe to share between the threads of one process (and between processes on
    one database: every write is checked against the version it was decided on)."""

    store: EventStore[Any]
    reads: ServerReadModel
    users: UserService
    containers: ContainerService
    benchmarks: BenchmarkService
    datasets: DatasetService
    associations: AssociationService
    results: ResultService

    @classmethod
    def over(
        cls, store: EventStore[Any], reads: ServerReadModel, faults: FaultInjection | None = None
    ) -> ServerServices:
        writer = Writer(store, reads, faults)
        containers = ContainerService(reads, writer)
        benchmarks = BenchmarkService(reads, writer, containers)
        datasets = DatasetService(reads, writer, containers)
        associations = AssociationService(reads, writer, datasets, containers, benchmarks)
        return cls(
            store=store,
            reads=reads,
            users=UserService(reads, writer),
            containers=containers,
            benchmarks=benchmarks,
            datasets=datasets,
            associations=associations,
            results=ResultService(reads, writer, datasets, containers, benchmarks, associations),
        )

    @classmethod
    def open(
        cls, database: str | Path, host: PluginHost | None = None, faults: FaultInjection | None = None
    ) -> ServerServices:
        """The services over the server database at `database` (a URL, or a data directory for SQLite); `faults`:
        the pauses tests put into the write path (none by default)."""
        from medperf_core.server.storage import open_server_storage

        storage = open_server_storage(database, host=host)
        return cls.over(storage.store, storage.reads, faults)

    def close(self) -> None:
        self.store.close()


__all__ = ["Caller", "Json", "Page", "ServerServices"]
