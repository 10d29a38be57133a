"""What the client's services may ask of the local state kept from its own log: typed lookups, no SQL.

Rows are dicts with JSON fields decoded (`statistics`, `steps_done`, `report`, `metrics`, `images`).
"""

from __future__ import annotations

from typing import Any, Protocol

Row = dict[str, Any]


class LocalState(Protocol):
    def dataset(self, dataset_id: int) -> Row | None:
        """A dataset registered from this machine: its local state, paths, steps done, last error."""

    def datasets(self) -> list[Row]:
        """Every dataset registered from this machine, by id."""

    def execution(self, uid: str) -> Row | None:
        """One local execution (a model run on a dataset for a benchmark) by its uid."""

    def executions(self, benchmark: int | None = None) -> list[Row]:
        """Local executions in the order they started, only one benchmark's when given."""

    def requests(self, state: str | None = None) -> list[Row]:
        """Writes to the server recorded before they were sent (`pending`, `done`, `failed`), oldest first."""

    def associations(self) -> list[Row]:
        """Association requests recorded in this machine's log: kind, benchmark, entity, status."""
