"""Results: submitted once per (benchmark, model, dataset) by the dataset's owner for approved associations."""

from __future__ import annotations

from medperf_core.domain import streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import DomainEvent, ResultSubmitted
from medperf_core.domain.executions import result_uid
from medperf_core.domain.resources import RESULT
from medperf_core.endpoints import endpoint
from medperf_core.errors import ConflictError, InvalidTransitionError, NotFoundError, PermissionDeniedError
from medperf_core.server.services.associations import AssociationService
from medperf_core.server.services.benchmarks import BenchmarkService
from medperf_core.server.services.containers import ContainerService
from medperf_core.server.services.datasets import DatasetService
from medperf_core.server.services.fields import clean
from medperf_core.server.services.idempotency import Claim
from medperf_core.server.services.writer import Writer
from medperf_core.store.server_read_model import Json, Page, ServerReadModel
from medperf_core.store.store import Append


class ResultService:
    def __init__(
        self,
        reads: ServerReadModel,
        writer: Writer,
        datasets: DatasetService,
        containers: ContainerService,
        benchmarks: BenchmarkService,
        associations: AssociationService,
    ) -> None:
        self.reads = reads
        self.writer = writer
        self.datasets = datasets
        self.containers = containers
        self.benchmarks = benchmarks
        self.associations = associations

    def _require_approved(self, kind: str, entity: int, benchmark: int) -> None:
        latest = self.associations.latest(kind, entity, benchmark)
        if latest is None or latest["approval_status"] != "APPROVED":
            status = "not requested" if latest is None else latest["approval_status"].lower()
            raise InvalidTransitionError(
                f"{kind} {entity} is not approved for benchmark {benchmark} (association {status})",
                "results need an approved association",
            )

    def submit(self, caller: Caller, body: Json, key: str | None = None) -> Json:
        claim = Claim.of(key, caller.id, endpoint("submit_result").operation(), body) if key else None
        first = self.writer.first_answer(claim)
        if first is not None:
            return self.get(caller, int(first["id"]))
        data = clean(body, RESULT, creating=True)
        b, m, d = data["benchmark"], data["model"], data["dataset"]
        dataset = self.datasets.get(caller, d)
        if dataset["owner"] != caller.id:
            raise PermissionDeniedError(f"only the owner of dataset {d} can submit its results")
        benchmark = self.benchmarks.get(caller, b)
        self.containers.get(caller, m)
        self._require_approved("dataset", d, b)
        if m != benchmark["reference_model_mlcube"]:
            self._require_approved("model", m, b)
        existing = self.reads.find(RESULT, benchmark=b, model=m, dataset=d)
        if existing is not None:
            raise ConflictError(
                f"a result of model {m} on dataset {d} for benchmark {b} already exists (result {existing['id']})"
            )

        def build(rid: int) -> list[Append]:
            event: DomainEvent = ResultSubmitted(
                result_id=rid, benchmark=b, model=m, dataset=d, owner=caller.id, metrics=data.get("results", {}),
                uid=data.get("name") or result_uid(b, m, d), metadata=data.get("metadata", {}),
            )
            return [Append(streams.result(rid), 0, [event])]

        created = self.writer.create(RESULT, build, caller.actor, claim)
        return self.get(caller, created)

    def get(self, caller: Caller, result_id: int) -> Json:
        found = (
            self.reads.get(RESULT, result_id)
            if caller.is_staff
            else self.reads.result_visible_to(caller.id, result_id)
        )
        if found is None:
            raise NotFoundError(f"result {result_id} not found")
        return found

    def list(self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False) -> Page:
        if mine:
            return self.reads.list(RESULT, limit, offset, owner=caller.id)
        if caller.is_staff:
            return self.reads.list(RESULT, limit, offset)
        return self.reads.results_visible_to(caller.id, limit, offset)

    def of_benchmark(self, caller: Caller, benchmark_id: int, limit: int | None = None, offset: int = 0) -> Page:
        benchmark = self.benchmarks.get(caller, benchmark_id)
        if not (caller.is_staff or caller.id == benchmark["owner"]):
            raise PermissionDeniedError(f"only the owner of benchmark {benchmark_id} can list its results")
        return self.reads.list(RESULT, limit, offset, benchmark=benchmark_id)
