"""Store test helpers: a small test projection and the tutorial flow written through the real domain."""

from __future__ import annotations

from sqlite_utils import Database

from medperf_core.domain import associations, datasets, executions
from medperf_core.domain.events import DatasetRegistered, DomainEvent
from medperf_core.store import EventStore
from medperf_core.store.records import StoredEvent
from medperf_core.store.sqlite import SQLiteProjection


class StreamSummary(SQLiteProjection):
    """A test projection: per stream its event count and last event, per type a count."""

    name = "test_stream_summary"
    version = 1
    tables = ("test_streams", "test_types")

    def create(self, db: Database) -> None:
        db["test_streams"].create(
            {"stream": str, "events": int, "last_type": str, "last_position": int, "last_version": int},
            pk="stream",
        )
        db["test_types"].create({"type": str, "count": int}, pk="type")

    def apply(self, db: Database, event: DomainEvent, stored: StoredEvent) -> None:
        row = db.execute("SELECT events FROM test_streams WHERE stream = ?", [stored.stream]).fetchone()
        db["test_streams"].upsert(
            {
                "stream": stored.stream,
                "events": (row[0] if row else 0) + 1,
                "last_type": event.type,
                "last_position": stored.position,
                "last_version": stored.version,
            },
            pk="stream",
        )
        db.execute(
            "INSERT INTO test_types (type, count) VALUES (?, 1)"
            " ON CONFLICT(type) DO UPDATE SET count = count + 1",
            [event.type],
        )


def write_tutorial_flow(store: EventStore) -> None:
    """A data owner's flow: register, prepare and mark a dataset operational, associate it, run, submit."""
    registered = datasets.register(
        None,
        DatasetRegistered(
            dataset_id=1,
            name="Chest X-ray — site A",
            owner=3,
            input_data_hash="9f2c",
            generated_uid="a41b",
            data_preparation_mlcube=2,
            benchmark=1,
        ),
    )
    store.append("dataset-1", 0, [registered], "testdo@example.com")
    ds = datasets.fold(store.load("dataset-1")[0])
    assert ds is not None
    store.append(
        "dataset-1",
        1,
        [datasets.prepare(ds, "a41b", {"images": 120, "mean_age": 54.5})],
        "testdo@example.com",
    )
    ds = datasets.fold(store.load("dataset-1")[0])
    assert ds is not None
    store.append("dataset-1", 2, [datasets.mark_operational(ds)], "testdo@example.com")
    stream = associations.stream_name("dataset", 1, 1)
    store.append(
        stream,
        0,
        [associations.request(None, kind="dataset", benchmark=1, entity=1, initiated_by=3)],
        "testdo@example.com",
    )
    assoc = associations.fold(store.load(stream)[0])
    store.append(
        stream,
        1,
        [associations.approve(assoc, kind="dataset", benchmark=1, entity=1, by=2)],
        "testbo@example.com",
    )
    uid = executions.result_uid(1, 4, 1)
    started = executions.start(None, benchmark=1, model=4, dataset=1)
    store.append(f"execution-{uid}", 0, [started], "testdo@example.com")
    ex = executions.fold(store.load(f"execution-{uid}")[0])
    store.append(
        f"execution-{uid}",
        1,
        [executions.finish(ex, metrics={"auc": 0.91}, duration_s=12.5)],
        "testdo@example.com",
    )
    ex = executions.fold(store.load(f"execution-{uid}")[0])
    store.append(f"execution-{uid}", 2, [executions.submit(ex, result_id=7, owner=3)], "testdo@example.com")
