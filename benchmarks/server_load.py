"""Server load: requests/s and p50/p99 latency of a detail and a 1,000-row list, sequential and 50 clients.

    python benchmarks/server_load.py [--datasets 1000] [--clients 50]

Starts the server as users do (`medperf server start`, the console script next to this interpreter), fills it
through the API, measures, stops it. Prints one table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from medperf_core.testing.server import ServerProcess, start_server

CONFIG = {
    "container_type": "DockerImage",
    "image": "bench/x:1",
    "tasks": {"infer": {"run_args": {"command": "true"}, "input_volumes": {}, "output_volumes": {}}},
}


def _medperf() -> list[str]:
    script = Path(sys.executable).parent / "medperf"
    found = str(script) if script.exists() else shutil.which("medperf")
    if not found:
        raise SystemExit("the medperf console script is not installed (pip install -e '.[server]')")
    return [found]


def _session(server: ServerProcess, email: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token(email)}"
    return session


def fill(server: ServerProcess, datasets: int) -> float:
    """One benchmark (as testbo) and `datasets` datasets (as testdo); returns POSTs per second of the datasets."""
    bo, do = _session(server, "testbo@example.com"), _session(server, "testdo@example.com")
    ids = [
        bo.post(f"{server.api}/mlcubes/", json={"name": f"c{i}", "container_config": CONFIG}).json()["id"]
        for i in range(3)
    ]
    bo.post(
        f"{server.api}/benchmarks/",
        json={
            "name": "load",
            "data_preparation_mlcube": ids[0],
            "reference_model_mlcube": ids[1],
            "data_evaluator_mlcube": ids[2],
        },
    )
    start = time.perf_counter()
    for i in range(datasets):
        response = do.post(
            f"{server.api}/datasets/",
            json={
                "name": f"d{i}",
                "input_data_hash": f"h{i}",
                "generated_uid": f"h{i}",
                "data_preparation_mlcube": 1,
            },
        )
        assert response.status_code == 201, response.text
    return datasets / (time.perf_counter() - start)


def measure(
    url: str,
    make_session: Callable[[], requests.Session],
    total: int,
    clients: int,
    check: Callable[[requests.Response], None],
) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of `total` GETs spread over `clients` threads, each with its own session."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = total // clients

    def worker() -> None:
        session = make_session()
        check(session.get(url))  # warm the connection
        mine = []
        for _ in range(per_client):
            t0 = time.perf_counter()
            response = session.get(url)
            mine.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(response.text)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="GETs of the detail per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp) / "server", env={"MEDPERF_HOME": str(Path(tmp) / "home")}, command=_medperf()
        )
        try:
            post_rate = fill(server, args.datasets)

            def as_do() -> requests.Session:
                return _session(server, "testdo@example.com")

            def full_list(response: requests.Response) -> None:
                assert response.json()["count"] == args.datasets, response.text[:200]

            def ok(response: requests.Response) -> None:
                assert response.status_code == 200, response.text

            detail = f"{server.api}/benchmarks/1/"
            listing = f"{server.api}/datasets/"
            list_requests = max(args.clients, args.requests // 10)
            rows = [
                ("GET /benchmarks/1/", "sequential", measure(detail, as_do, args.requests // 4, 1, ok)),
                (
                    "GET /benchmarks/1/",
                    f"{args.clients} clients",
                    measure(detail, as_do, args.requests, args.clients, ok),
                ),
                (
                    f"GET /datasets/ ({args.datasets} rows)",
                    "sequential",
                    measure(listing, as_do, list_requests // 4, 1, full_list),
                ),
                (
                    f"GET /datasets/ ({args.datasets} rows)",
                    f"{args.clients} clients",
                    measure(listing, as_do, list_requests, args.clients, full_list),
                ),
            ]
        finally:
            server.stop()
    print(f"POST /datasets/ (sequential, durable append + projection): {post_rate:.0f} requests/s")
    print(f"{'endpoint':<30} {'mode':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for endpoint, mode, (rate, p50, p99) in rows:
        print(f"{endpoint:<30} {mode:<12} {rate:>8.0f} {p50:>8.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
