"""The CPU one trip from the event loop to a worker thread and back costs: anyio's (FastAPI's way of running a plain
`def` endpoint) against asyncio's `run_in_executor` (the server's way, server/http.py), on the event loop uvicorn
runs (uvloop when it is installed, else asyncio's).

    python benchmarks/thread_hop.py [--trips 4000] [--rounds 5] [--threads 40]

The function run in the thread does nothing, so what is measured is the trip alone: the process's CPU time per trip
(both threads, the kernel's share included), for 1 and 50 trips in flight, the median over `--rounds`, the two ways
taking turns so that the machine's slow and fast moments fall on both.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor


def nothing() -> int:
    return 1


async def measure(trips: int, rounds: int, threads: int) -> dict[tuple[str, int], float]:
    import anyio.to_thread

    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=threads))
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads

    async def by_anyio() -> int:
        return await anyio.to_thread.run_sync(nothing)

    async def by_executor() -> int:
        return await loop.run_in_executor(None, nothing)

    ways: dict[str, Callable[[], Awaitable[int]]] = {"anyio": by_anyio, "run_in_executor": by_executor}
    per_trip: dict[tuple[str, int], list[float]] = {}
    for in_flight in (1, 50):
        for round_ in range(rounds):
            order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
            for name in order:
                trip = ways[name]

                async def caller(count: int, trip: Callable[[], Awaitable[int]] = trip) -> None:
                    for _ in range(count):
                        await trip()

                each = trips // in_flight
                started = time.process_time()
                await asyncio.gather(*(caller(each) for _ in range(in_flight)))
                cpu = time.process_time() - started
                per_trip.setdefault((name, in_flight), []).append(cpu / (each * in_flight))
    return {key: statistics.median(values) for key, values in per_trip.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trips", type=int, default=4000, help="trips per way and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=40, help="the pool's threads (the server's on PostgreSQL)")
    args = parser.parse_args()
    try:  # the loop uvicorn picks: uvloop when it is installed, else asyncio's own
        import uvloop

        run, loop_name = uvloop.run, "uvloop"
    except ImportError:
        run, loop_name = asyncio.run, "asyncio"
    results = run(measure(args.trips, args.rounds, args.threads))
    print(f"CPU per trip to a thread and back (median of {args.rounds} rounds of {args.trips} trips, "
          f"{args.threads} threads, {loop_name})")
    print(f"{'way':<18}{'in flight':>10}{'µs':>8}")
    for (name, in_flight), seconds in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"{name:<18}{in_flight:>10}{seconds * 1e6:>8.1f}")


if __name__ == "__main__":
    main()
