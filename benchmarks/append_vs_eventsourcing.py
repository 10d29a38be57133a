"""Batched appends, ours against the `eventsourcing` library's SQLite recorders, paired in one run.

Run: python benchmarks/append_vs_eventsourcing.py [--batches 40] [--batch-size 100] [--rounds 7]
(needs `pip install eventsourcing`, the library this compares with; medperf does not depend on it).

Both sides map domain events to stored form and insert one batch per transaction into a durable SQLite file (WAL,
synchronous=FULL on both; the script prints what each connection reports): ours is `EventStore.append` on the SQLite
recorder with no projection (canonical JSON, the hash chain, positions and versions, the group commit), theirs is
`EventStore.put` with their JSON mapper on `SQLiteApplicationRecorder` (a global order, as our positions) and on
`SQLiteAggregateRecorder` (no global order: `executemany`). The same events (ExecutionFinished's fields) go to both.
The three take turns append by append (ours, theirs, theirs, ours, ...), each on its own file, so a ratio compares
appends made moments apart; a round is `--batches` appends of each, and the figures are medians over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    from eventsourcing.domain import DomainEvent as TheirEvent
    from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex
    from eventsourcing.persistence import EventStore as TheirStore
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder, SQLiteDatastore
except ImportError:
    sys.exit("this benchmark compares with the eventsourcing library: pip install eventsourcing")

from medperf_core.domain.events import ExecutionFinished
from medperf_core.store.sqlite import SQLiteRecorder
from medperf_core.store.store import EventStore


@dataclass(frozen=True)
class TheirExecutionFinished(TheirEvent):
    uid: str
    benchmark: int
    model: int
    dataset: int
    metrics: dict[str, Any]
    duration_s: float


def fields(i: int) -> dict[str, Any]:
    return {"uid": f"b1m{i % 7}d{i % 50}", "benchmark": 1, "model": i % 7, "dataset": i % 50,
            "metrics": {"auc": (i % 1000) / 1000, "n": i}, "duration_s": 1.5}


def ours(path: Path, batches: int, size: int) -> tuple[Callable[[int], None], Callable[[], None], str]:
    store = EventStore(SQLiteRecorder(path))
    events = [[ExecutionFinished(**fields(b * size + j)) for j in range(size)] for b in range(batches)]
    synchronous = store.recorder.db.conn.execute("PRAGMA synchronous").fetchone()[0]  # type: ignore[attr-defined]

    def append(b: int) -> None:
        store.append(f"execution-{path.stem}-{b}", 0, events[b], actor="bench@example.com")

    return append, store.close, f"synchronous={synchronous}"


def theirs(path: Path, batches: int, size: int, recorder_class: Any) -> tuple[Callable[[int], None],
                                                                               Callable[[], None], str]:
    datastore = SQLiteDatastore(str(path))
    recorder = recorder_class(datastore)
    recorder.create_table()
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    store = TheirStore(Mapper(transcoder=transcoder), recorder)
    now = datetime.now(UTC)
    events = []
    for b in range(batches):
        originator = uuid.uuid4()
        events.append([TheirExecutionFinished(originator_id=originator, originator_version=j + 1, timestamp=now,
                                              **fields(b * size + j)) for j in range(size)])
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]

    def append(b: int) -> None:
        store.put(events[b])

    return append, datastore.close, f"synchronous={synchronous}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="appends per round (default 40)")
    parser.add_argument("--batch-size", type=int, default=100, help="events per append (default 100)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each, alternating (default 7)")
    args = parser.parse_args(argv)
    sides = {
        "medperf (SQLiteRecorder)": lambda p, n: ours(p, n, args.batch_size),
        "eventsourcing SQLiteApplicationRecorder": lambda p, n: theirs(p, n, args.batch_size,
                                                                       SQLiteApplicationRecorder),
        "eventsourcing SQLiteAggregateRecorder": lambda p, n: theirs(p, n, args.batch_size, SQLiteAggregateRecorder),
    }
    rates: dict[str, list[float]] = {name: [] for name in sides}
    settings: dict[str, str] = {}
    appends = args.batches * (args.rounds + 1)  # round 0 warms up (imports, the OS cache), not counted
    with tempfile.TemporaryDirectory(prefix="medperf-bench-") as tmp:
        opened = {}
        for k, (name, make) in enumerate(sides.items()):
            opened[name] = make(Path(tmp) / f"side{k}.db", appends)
            settings[name] = opened[name][2]
        try:
            for round_ in range(args.rounds + 1):
                spent = dict.fromkeys(sides, 0.0)
                for b in range(round_ * args.batches, (round_ + 1) * args.batches):
                    for name, (append, _close, _setting) in opened.items():  # the sides take turns, append by append
                        started = time.perf_counter()
                        append(b)
                        spent[name] += time.perf_counter() - started
                if round_:
                    for name, seconds in spent.items():
                        rates[name].append(args.batches * args.batch_size / seconds)
        finally:
            for _append, close, _setting in opened.values():
                close()
    ours_name = next(iter(sides))
    print(f"python {sys.version.split()[0]}; {args.rounds} rounds of {args.batches} appends of {args.batch_size} "
          f"events per side, one transaction each, the sides taking turns append by append; medians of the rounds")
    for name, values in rates.items():
        print(f"{name:<40} {statistics.median(values):>9,.0f} events/s  (min {min(values):,.0f}, "
              f"max {max(values):,.0f}; {settings[name]})")
    for name in list(sides)[1:]:
        ratios = [a / b for a, b in zip(rates[ours_name], rates[name], strict=True)]
        print(f"medperf / {name.removeprefix('eventsourcing ')}: {statistics.median(ratios):.2f}x "
              f"(median of the rounds' ratios; min {min(ratios):.2f}, max {max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
