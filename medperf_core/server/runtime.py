"""How a server process runs once started: Python's garbage collector, and the threads of blocking request work.

A collection stops every thread; a full one walks every object the process holds, and a server holds many from
start-up (FastAPI's routes, pydantic's schemas, modules) that will live as long as it does. Unattended, those pauses
were the slowest 1 % of requests: 65 ms at the 99th percentile where the median was 2 ms (GET, 50 connections,
benchmarks/server_load.py). So, once started, the process collects what start-up left, freezes the survivors (never
walked again), and runs the young generation's collection every 20,000 allocations instead of 700: requests free
their objects by reference counting, and what cycles they leave waits a little longer.

Requests' blocking work (the database) runs in a thread pool. On SQLite a process's writes take turns on one
connection, so past some count more threads only queue on its lock, where Python's locks and the GIL serve them in
no particular order, instead of first-come in the pool's queue: 24 threads (benchmarks/server_ab.py, POST at 50
connections, one worker: 8, 16 and 24 threads 914, 1,050 and 1,201 writes/s; 16, 24 and 32 threads 923, 999 and
986). On PostgreSQL a request mostly waits for round trips, which more threads overlap: 40.
`medperf server start --threads N` overrides both.

That pool is the event loop's default executor, which the endpoints reach through `asyncio`'s own
`run_in_executor` (server/http.py). FastAPI would hop through anyio instead (a capacity limiter, a cancel scope and a
checkpoint per call): about 80 µs of CPU per request at 50 in flight, against about 25 µs (benchmarks/thread_hop.py).
anyio's limiter is sized alike, for what FastAPI still runs in threads itself (a user's first request).
"""

from __future__ import annotations

import gc

from medperf_core.server.settings import ServerSettings

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20
SQLITE_THREADS = 24
DEFAULT_THREADS = 40


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)


def request_threads(settings: ServerSettings) -> int:
    """The size of a process's thread pool for blocking request work."""
    if settings.threads is not None:
        return settings.threads
    database = settings.database or "sqlite://"
    return SQLITE_THREADS if database.startswith("sqlite:") else DEFAULT_THREADS


def use_request_threads(count: int) -> None:
    """Give the running event loop a pool of `count` threads for requests' blocking work (its default executor),
    and let anyio's pool (FastAPI's own sync calls) take as many."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import anyio.to_thread

    pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="medperf-request")
    asyncio.get_running_loop().set_default_executor(pool)
    anyio.to_thread.current_default_thread_limiter().total_tokens = count
