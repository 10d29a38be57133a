"""Core benchmarks: `medperf --help` cold start (and what it imports), durable append throughput, 100k replay.

Run: python benchmarks/core.py [--replay-events 100000] [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlite_utils import Database

from medperf_core.domain.events import DomainEvent, ExecutionFinished
from medperf_core.store.records import StoredEvent
from medperf_core.store.sqlite import SQLiteProjection, sqlite_store

HEAVY = ("docker", "fastapi", "uvicorn", "requests", "jwt", "spython", "pydantic", "starlette", "httpx")
HELP_CODE = "import sys; from medperf_core.cli.main import main; sys.argv = ['medperf', '--help']; main()"


class PerStream(SQLiteProjection):
    """A simple projection: one row per stream with its event count and last metrics."""

    name = "bench_per_stream"
    version = 1
    tables = ("bench_streams",)

    def create(self, db: Database) -> None:
        db.execute("CREATE TABLE bench_streams (stream TEXT PRIMARY KEY, events INTEGER, last_auc REAL)")

    def apply(self, db: Database, event: DomainEvent, stored: StoredEvent) -> None:
        auc = event.metrics.get("auc") if isinstance(event, ExecutionFinished) else None
        db.execute(
            "INSERT INTO bench_streams VALUES (?, 1, ?) ON CONFLICT(stream) DO UPDATE"
            " SET events = events + 1, last_auc = excluded.last_auc",
            [stored.stream, auc],
        )


def event(i: int) -> ExecutionFinished:
    return ExecutionFinished(
        uid=f"b1m{i % 7}d{i % 50}",
        benchmark=1,
        model=i % 7,
        dataset=i % 50,
        metrics={"auc": (i % 1000) / 1000, "n": i},
        duration_s=1.5,
    )


def cold_start(runs: int, env: dict[str, str]) -> None:
    medperf = Path(sys.executable).with_name("medperf")
    command = [str(medperf), "--help"] if medperf.exists() else [sys.executable, "-c", HELP_CODE]
    subprocess.run(command, env=env, capture_output=True, check=True)  # warm the OS file cache once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(
        f"cold start `medperf --help`: median {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, {runs} runs)"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", HELP_CODE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {
        m.group(1).strip() for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|(.*)$", done.stderr, re.M)
    }
    top = sorted({m.split(".")[0] for m in modules})
    heavy = [m for m in HEAVY if m in top]
    print(f"  modules imported on that path: {len(modules)} ({len(top)} top-level packages)")
    print(f"  heavy modules imported: {', '.join(heavy) if heavy else 'none'} (checked: {', '.join(HEAVY)})")


def slowest_imports(env: dict[str, str], n: int = 5) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", HELP_CODE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(
            r"import time:\s+(\d+) \|\s+(\d+) \| (\S.*)$", line
        )  # top-level imports only (no indent)
        if m:
            rows.append((int(m.group(2)), m.group(3)))
    rows.sort(reverse=True)
    print(
        "  slowest top-level imports (cumulative): "
        + ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in rows[:n])
    )


def append_throughput(tmp: Path, singles: int, batches: int, batch_size: int) -> None:
    with sqlite_store(tmp / "append.db", [PerStream()]) as store:
        start = time.perf_counter()
        for i in range(singles):
            store.append(f"s{i}", 0, [event(i)], actor="bench")
        elapsed = time.perf_counter() - start
        print(
            f"append, one event per transaction (durable, synchronous=FULL, WAL, projection): "
            f"{singles / elapsed:,.0f} events/s ({elapsed / singles * 1000:.2f} ms each, {singles} appends)"
        )
        start = time.perf_counter()
        for b in range(batches):
            store.append(
                f"batch-{b}", 0, [event(b * batch_size + j) for j in range(batch_size)], actor="bench"
            )
        elapsed = time.perf_counter() - start
        total = batches * batch_size
        print(f"append, batches of {batch_size}: {total / elapsed:,.0f} events/s ({batches} batches)")


def replay(tmp: Path, count: int) -> None:
    path = tmp / "replay.db"
    with sqlite_store(path, [PerStream()]) as store:
        start = time.perf_counter()
        written = 0
        while written < count:
            size = min(1000, count - written)
            store.append(
                f"stream-{written // 1000}", 0, [event(written + j) for j in range(size)], actor="bench"
            )
            written += size
        fill = time.perf_counter() - start
    print(f"wrote {count:,} events in batches of 1000: {fill:.1f} s ({count / fill:,.0f} events/s)")
    with sqlite_store(path, [PerStream()]) as store:
        start = time.perf_counter()
        report = store.replay(rebuild=False)
        elapsed = time.perf_counter() - start
        assert report.equal and report.events == count, report
        print(
            f"full replay of {count:,} events (read, upcast, map, apply to a fresh projection, compare): "
            f"{elapsed:.1f} s ({count / elapsed:,.0f} events/s)"
        )
        start = time.perf_counter()
        verified = store.verify()
        elapsed = time.perf_counter() - start
        assert verified.ok
        print(f"verify the hash chain of {count:,} events: {elapsed:.1f} s ({count / elapsed:,.0f} events/s)")
    print(f"  log size: {path.stat().st_size / 1e6:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--replay-events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MEDPERF_HOME": str(Path(tmp) / "home")}
        print(f"python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs")
        cold_start(args.runs, env)
        slowest_imports(env)
        append_throughput(Path(tmp), args.singles, args.batches, args.batch_size)
        replay(Path(tmp), args.replay_events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
