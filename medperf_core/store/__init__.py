"""The append-only event store: mapper, SQLite recorder with a hash chain, projections, verify and replay."""

from medperf_core.store.records import NewEvent, StoredEvent
from medperf_core.store.store import EventStore, Projection

__all__ = ["EventStore", "NewEvent", "Projection", "StoredEvent"]
