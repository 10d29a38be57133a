"""Logs written before `benchmark.approved` / `benchmark.rejected` hold `benchmark.approval_changed`: they still
verify, replay to the same rows and read as the decision they record; new decisions are the new events."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from medperf_core.cli.main import run
from medperf_core.domain import benchmarks
from medperf_core.domain import events as ev
from medperf_core.domain.callers import Caller
from medperf_core.domain.resources import BENCHMARK, Benchmark
from medperf_core.errors import InvalidTransitionError
from medperf_core.server.storage import open_server_storage

ADMIN = Caller(id=1, email="testadmin@example.com", is_staff=True)


def registered(benchmark_id: int) -> ev.BenchmarkRegistered:
    return ev.BenchmarkRegistered(benchmark_id=benchmark_id, name=f"b{benchmark_id}", owner=2,
                                  demo_dataset_tarball_url="https://example.org/demo.tar.gz",
                                  data_preparation_mlcube=1, reference_model_mlcube=2, data_evaluator_mlcube=3)


def test_an_old_log_with_approval_changed_verifies_replays_and_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "server"
    storage = open_server_storage(data_dir)
    store = storage.store
    store.append("benchmark-1", 0, [registered(1), ev.BenchmarkApprovalChanged(benchmark_id=1,
                                                                               approval_status="APPROVED")],
                 actor=ADMIN.email)
    store.append("benchmark-2", 0, [registered(2), ev.BenchmarkApprovalChanged(benchmark_id=2,
                                                                               approval_status="REJECTED")],
                 actor=ADMIN.email)
    first = storage.reads.get(BENCHMARK, 1)
    assert first is not None and first["approval_status"] == "APPROVED" and first["approved_at"]
    second = storage.reads.get(BENCHMARK, 2)
    assert second is not None and second["approval_status"] == "REJECTED" and second["approved_at"] is None
    # a decision made today on an old benchmark is the new event, and the latest decision counts
    loaded, version = store.load("benchmark-1")
    assert isinstance(loaded[-1], ev.BenchmarkApprovalChanged)  # read back as written: the chain is untouched
    current = Benchmark(**first)
    decided = benchmarks.update(current, ADMIN, {"approval_status": "REJECTED"})
    assert decided == [ev.BenchmarkRejected(benchmark_id=1, rejected_by=ADMIN.id)]
    store.append("benchmark-1", version, decided, actor=ADMIN.email)
    rejected = storage.reads.get(BENCHMARK, 1)
    assert rejected is not None and rejected["approval_status"] == "REJECTED" and rejected["approved_at"] is None
    report = store.replay(rebuild=False)
    assert report.equal, report
    store.close()
    capsys.readouterr()
    assert run(["events", "verify", "--server-data-dir", str(data_dir)]) == 0
    assert "intact" in capsys.readouterr().out
    assert run(["events", "replay", "--check-only", "--server-data-dir", str(data_dir)]) == 0


def test_an_admin_decision_is_approved_or_rejected_and_never_back_to_pending() -> None:
    pending = Benchmark(id=7, name="b", owner=2, demo_dataset_tarball_url="u", data_preparation_mlcube=1,
                        reference_model_mlcube=2, data_evaluator_mlcube=3)
    assert benchmarks.update(pending, ADMIN, {"approval_status": "APPROVED"}) == [
        ev.BenchmarkApproved(benchmark_id=7, approved_by=1)]
    assert benchmarks.update(pending, ADMIN, {"approval_status": "REJECTED"}) == [
        ev.BenchmarkRejected(benchmark_id=7, rejected_by=1)]
    approved = attrs.evolve(pending, approval_status="APPROVED")
    with pytest.raises(InvalidTransitionError, match="cannot go back to PENDING"):
        benchmarks.update(approved, ADMIN, {"approval_status": "PENDING"})
    assert benchmarks.update(approved, ADMIN, {"approval_status": "APPROVED"}) == []  # unchanged: nothing
