"""Results: submitted once per (benchmark, model, dataset) by the dataset's owner for approved associations."""

from __future__ import annotations

from medperf_core.domain.events import ResultSubmitted
from medperf_core.domain.executions import result_uid
from medperf_core.errors import ConflictError, InvalidTransitionError, NotFoundError, PermissionDeniedError
from medperf_core.server.services.base import Caller, Json, Page, ServiceBase, clean

RESULT_FIELDS: dict[str, type] = {
    "name": str,
    "benchmark": int,
    "model": int,
    "dataset": int,
    "results": dict,
    "metadata": dict,
}
# A result is visible to its submitter, the benchmark's owner and admins.
VISIBLE = "(owner = ? OR benchmark IN (SELECT id FROM benchmarks WHERE owner = ?))"


class ResultServices(ServiceBase):
    def _require_approved(self, kind: str, entity: int, benchmark: int) -> None:
        latest = self.latest_association(kind, entity, benchmark)  # type: ignore[attr-defined]
        if latest is None or latest["approval_status"] != "APPROVED":
            status = "not requested" if latest is None else latest["approval_status"].lower()
            raise InvalidTransitionError(
                f"{kind} {entity} is not approved for benchmark {benchmark} (association {status})",
                "results need an approved association",
            )

    def submit_result(self, caller: Caller, body: Json) -> Json:
        data = clean(body, RESULT_FIELDS, required=("benchmark", "model", "dataset"))
        b, m, d = data["benchmark"], data["model"], data["dataset"]
        with self.store.lock:
            dataset = self.visible_dataset(caller, d)  # type: ignore[attr-defined]
            if dataset["owner"] != caller.id:
                raise PermissionDeniedError(f"only the owner of dataset {d} can submit its results")
            benchmark = self.by_id("benchmarks", "benchmark", b)
            self.by_id("containers", "container", m)
            self._require_approved("dataset", d, b)
            if m != benchmark["reference_model_mlcube"]:
                self._require_approved("model", m, b)
            existing = self.row(
                "SELECT id FROM results WHERE benchmark = ? AND model = ? AND dataset = ?", [b, m, d]
            )
            if existing is not None:
                raise ConflictError(
                    f"a result of model {m} on dataset {d} for benchmark {b} already exists "
                    f"(result {existing['id']})"
                )
            new_id = self.create(
                "results",
                "result",
                lambda rid: [
                    ResultSubmitted(
                        result_id=rid,
                        benchmark=b,
                        model=m,
                        dataset=d,
                        owner=caller.id,
                        metrics=data.get("results", {}),
                        uid=data.get("name") or result_uid(b, m, d),
                        metadata=data.get("metadata", {}),
                    )
                ],
                caller,
            )
        return self.get_result(caller, new_id)

    def get_result(self, caller: Caller, result_id: int) -> Json:
        if caller.is_staff:
            return self.by_id("results", "result", result_id)
        found = self.row(
            f"SELECT * FROM results WHERE id = ? AND {VISIBLE}", [result_id, caller.id, caller.id]
        )
        if found is None:
            raise NotFoundError(f"result {result_id} not found")
        return found

    def list_results(
        self, caller: Caller, limit: int | None = None, offset: int = 0, *, mine: bool = False
    ) -> Page:
        if mine:
            return self.page("results", "owner = ?", [caller.id], limit, offset)
        if caller.is_staff:
            return self.page("results", "1", [], limit, offset)
        return self.page("results", VISIBLE, [caller.id, caller.id], limit, offset)

    def benchmark_results(
        self, caller: Caller, benchmark_id: int, limit: int | None = None, offset: int = 0
    ) -> Page:
        benchmark = self.by_id("benchmarks", "benchmark", benchmark_id)
        if not (caller.is_staff or caller.id == benchmark["owner"]):
            raise PermissionDeniedError(f"only the owner of benchmark {benchmark_id} can list its results")
        return self.page("results", "benchmark = ?", [benchmark_id], limit, offset)
