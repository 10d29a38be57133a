"""Benchmarks: registered by anyone, changed by their owner, approved by admins; containers frozen once OPERATION."""

from __future__ import annotations

import re

from medperf_core.domain import benchmarks as domain
from medperf_core.domain import policies, streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import (
    BenchmarkMarkedOperational,
    BenchmarkRegistered,
    BenchmarkUpdated,
    DomainEvent,
)
from medperf_core.domain.resources import BENCHMARK, POLICY
from medperf_core.endpoints import endpoint
from medperf_core.errors import FieldConflictError, FieldError, InvalidTransitionError, NotFoundError
from medperf_core.server.services.containers import ContainerService
from medperf_core.server.services.fields import clean
from medperf_core.server.services.idempotency import Claim
from medperf_core.server.services.writer import Writer
from medperf_core.store.server_read_model import Json, Page, ServerReadModel
from medperf_core.store.store import Append

# An http(s) URL whose host is an IP address or a name with a top-level domain (not `localhost`), as MedPerf's
# client's pydantic HttpUrl accepts it.
_DOCS_URL = re.compile(
    r"^https?://(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]|([A-Za-z0-9-]+\.)+[A-Za-z]{2,63})(:\d{1,5})?([/?#]\S*)?$"
)


class BenchmarkService:
    def __init__(self, reads: ServerReadModel, writer: Writer, containers: ContainerService) -> None:
        self.reads = reads
        self.writer = writer
        self.containers = containers

    def list(self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False) -> Page:
        return self.reads.list(BENCHMARK, limit, offset, owner=caller.id if mine else None)

    def get(self, caller: Caller, benchmark_id: int) -> Json:
        found = self.reads.get(BENCHMARK, benchmark_id)
        if found is None:
            raise NotFoundError(f"benchmark {benchmark_id} not found")
        return found

    def _check(self, data: Json, *, operational: bool = False) -> None:
        docs = data.get("docs_url", "")
        if docs and not _DOCS_URL.match(docs):  # MedPerf's client reads it as an HttpUrl: http(s), a host with a TLD
            raise FieldError("docs_url", f"docs_url: must be an http(s):// URL with a full host name (or empty), "
                                         f"got {docs[:60]!r}")
        for role in domain.CONTAINER_ROLES:
            if role in data and not self.containers.exists(data[role]):
                raise FieldError(role, f"{role}: container {data[role]} does not exist")
        if operational:
            self._containers_operational(data)
        if "name" in data and self.reads.find(BENCHMARK, name=data["name"]) is not None:
            raise FieldConflictError("name", f"name: a benchmark named {data['name']!r} already exists")

    def _containers_operational(self, data: Json) -> None:
        """An operational benchmark uses operational containers only (their hashes can no longer change)."""
        for role in domain.CONTAINER_ROLES:
            if role in data and self.containers.get_any(data[role])["state"] != "OPERATION":
                raise InvalidTransitionError(
                    f"{role}: container {data[role]} is in development; an operational benchmark needs operational "
                    "containers",
                    "register the container with --operational (or submit the benchmark without --operational)",
                )

    def create(self, caller: Caller, body: Json, key: str | None = None) -> Json:
        claim = Claim.of(key, caller.id, endpoint("create_benchmark").operation(), body) if key else None
        first = self.writer.first_answer(claim)
        if first is not None:
            return self.get(caller, int(first["id"]))
        data = domain.registration_fields(clean(body, BENCHMARK, creating=True))
        self._check(data, operational=data.get("state") == "OPERATION")

        def build(bid: int) -> list[Append]:
            registered = {k: v for k, v in data.items() if k in domain.IN_REGISTRATION}
            events: list[DomainEvent] = [BenchmarkRegistered(benchmark_id=bid, owner=caller.id, **registered)]
            extra = {k: v for k, v in data.items() if k not in domain.IN_REGISTRATION}
            if extra:
                events.append(BenchmarkUpdated(benchmark_id=bid, changes=extra))
            # The reference model belongs to the benchmark without an association row: MedPerf's clients add it
            # to the rows of /benchmarks/{id}/models themselves (a row would list it twice).
            return [Append(streams.benchmark(bid), 0, events)]

        created = self.writer.create(BENCHMARK, build, caller.actor, claim)
        return self.get(caller, created)

    def update(self, caller: Caller, benchmark_id: int, body: Json, key: str | None = None) -> Json:
        """With `key` (an Idempotency-Key) the change is made once: the same key again answers with the benchmark."""
        claim = Claim.of(key, caller.id, endpoint("update_benchmark").operation(benchmark_id), body) if key else None
        if self.writer.first_answer(claim) is not None:
            return self.get(caller, benchmark_id)

        def decide(shown: Json) -> list[DomainEvent]:
            current = BENCHMARK.cls(**shown)
            data = clean(body, BENCHMARK)
            new = domain.update(current, caller, data)
            for event in new:
                if isinstance(event, BenchmarkUpdated):
                    self._check(event.changes)
                if isinstance(event, BenchmarkMarkedOperational):
                    self._containers_operational({r: getattr(current, r) for r in domain.CONTAINER_ROLES})
            return new

        return self.writer.update(streams.benchmark(benchmark_id),
                                  lambda: self.get(caller, benchmark_id), decide, caller.actor, claim,
                                  {"benchmark": benchmark_id})

    def update_policy(self, caller: Caller, benchmark_id: int, body: Json, key: str | None = None) -> Json:
        """The owner's association policy (MedPerf's auto-approval fields); versioned by its own events. With `key`
        the change is made once, as in `update`."""
        self.get(caller, benchmark_id)
        operation = endpoint("update_association_policy").operation(benchmark_id)
        claim = Claim.of(key, caller.id, operation, body) if key else None
        if self.writer.first_answer(claim) is not None:
            return self.get(caller, benchmark_id)
        data = clean(body, POLICY)

        def decide(events: list[DomainEvent]) -> list[DomainEvent]:
            return policies.change(policies.fold(events), benchmark_id, caller, data)

        self.writer.decide(streams.benchmark(benchmark_id), decide, caller.actor, claim, {"benchmark": benchmark_id})
        return self.get(caller, benchmark_id)
