"""What the server's services may ask of the read model: typed lookups and bounded lists, no SQL.

A recorder plugin that can hold a server's state provides an implementation (the SQLite one is
`medperf_core.store.sql.server_reads.SqlServerReads`, for SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from medperf_core.domain.resources import Resource

Json = dict[str, Any]


@attrs.frozen
class Page:
    count: int
    results: list[Json]


class ServerReadModel(Protocol):
    def get(self, resource: Resource, entity_id: int) -> Json | None:
        """The entity as the API shows it, or None."""

    def exists(self, resource: Resource, entity_id: int) -> bool:
        """Whether the entity exists (cheaper than `get`: nothing is read but the index)."""

    def find(self, resource: Resource, **equal: Any) -> Json | None:
        """The entity (the latest by id) whose fields equal the given values, or None."""

    def list(
        self, resource: Resource, limit: int | None, offset: int, *, owner: int | None = None,
        benchmark: int | None = None,
    ) -> Page:
        """Entities in id order; only the owner's (`owner`) or one benchmark's (`benchmark`) when given."""

    def next_id(self, session: Any, resource: Resource) -> int:
        """A new entity's id, read in `session`: the append's transaction (`EventStore.append_decided`), where no
        other writer can take it before the commit."""

    def dataset_visible_to(self, user_id: int, dataset_id: int) -> Json | None:
        """The dataset if the user owns it or owns a benchmark it asked to join."""

    def datasets_visible_to(self, user_id: int, limit: int | None, offset: int) -> Page: ...

    def operational_dataset_with_uid(self, generated_uid: str, other_than: int) -> int | None:
        """The id of another operational dataset with this prepared-data hash, if any."""

    def associations_of_owner(self, kind: str, owner: int, limit: int | None, offset: int) -> Page:
        """The association rows of the datasets (kind `dataset`) or containers (`model`) the user owns, and those of
        the benchmarks the user owns (the requests waiting for the user's decision among them)."""

    def result_visible_to(self, user_id: int, result_id: int) -> Json | None:
        """The result if the user submitted it or owns its benchmark."""

    def results_visible_to(self, user_id: int, limit: int | None, offset: int) -> Page: ...

    def head_position(self) -> int:
        """The log position the read model reflects."""

    async def head_position_async(self) -> int:
        """The same, for the server's event loop (a network database answers without blocking the loop)."""

    async def aclose(self) -> None:
        """Close what `head_position_async` opened (on the event loop that opened it)."""
