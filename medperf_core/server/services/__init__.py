"""ServerServices: every use case of the server, emitting events to its own store with the caller as actor."""

from __future__ import annotations

from pathlib import Path

from medperf_core.server.services.associations import AssociationServices
from medperf_core.server.services.base import Caller, FieldConflictError, FieldError, Json, Page
from medperf_core.server.services.benchmarks import BenchmarkServices
from medperf_core.server.services.containers import ContainerServices
from medperf_core.server.services.datasets import DatasetServices
from medperf_core.server.services.results import ResultServices
from medperf_core.server.services.users import UserServices


class ServerServices(
    UserServices, ContainerServices, BenchmarkServices, DatasetServices, AssociationServices, ResultServices
):
    """One object over one event store; safe to share between the threads of one process."""

    @classmethod
    def open(cls, data_dir: Path) -> ServerServices:
        from medperf_core.server.storage import open_server_store

        return cls(open_server_store(data_dir))

    def close(self) -> None:
        self.store.close()


__all__ = ["Caller", "FieldConflictError", "FieldError", "Json", "Page", "ServerServices"]
