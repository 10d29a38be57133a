"""`events replay --check-only` never crashes on what a crash can leave: rows whose columns are NULL in some rows
and set in others (an execution started but never finished next to finished ones, a failed preparation, a
request still pending)."""

from __future__ import annotations

from pathlib import Path

from medperf_core.cli.main import run as medperf
from medperf_core.domain import events as ev
from medperf_core.store.backends import open_client_storage


def test_replay_check_only_on_a_log_left_by_kills(tmp_path: Path, medperf_home: Path) -> None:
    storage = open_client_storage(medperf_home / "profiles" / "local" / "events.db")
    store = storage.store
    store.append("dataset-1", 0, [ev.DatasetRegistered(
        dataset_id=1, name="d", owner=1, input_data_hash="h", generated_uid="h", data_preparation_mlcube=1,
        data_path="/d", labels_path="/l")], "do")
    store.append("dataset-1", 1, [ev.DatasetPreparationFailed(dataset_id=1, step="prepare", error="interrupted")], "do")
    for n, finished in ((1, True), (2, False), (3, True)):
        uid = f"b1m{n}d1"
        started = ev.ExecutionStarted(uid=uid, benchmark=1, model=n, dataset=1)
        done = [ev.ExecutionFinished(uid=uid, benchmark=1, model=n, dataset=1, metrics={"a": n}, duration_s=1.5)]
        store.append(f"execution-{uid}", 0, [started, *(done if finished else [])], "do")
    store.append("request-k", 0, [ev.RequestPending(key="k", operation="result.submit", context={"uid": "b1m1d1"})],
                 "do")
    assert store.replay(rebuild=False).equal
    store.close()
    assert medperf(["events", "replay", "--check-only"]) == 0
    assert medperf(["events", "verify"]) == 0
