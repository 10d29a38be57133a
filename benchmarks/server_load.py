"""Server load with wrk: req/s, p50 and p99 of four endpoints, 1 and 50 connections, SQLite and PostgreSQL with 1 and
2 workers, in one run.

    python benchmarks/server_load.py [--datasets 1000] [--duration 5] [--only sqlite-1,postgresql-2]
                                     [--endpoints detail,first,last,post] [--connections 1,50] [--repeat 1]

For each setup it starts the server as users do (`medperf server start`, the console script next to this
interpreter; PostgreSQL: a new database on the local cluster, see scripts/start-postgres.sh), fills it through the API
with one benchmark and `--datasets` datasets, then runs wrk (Debian's package) against:

- `GET /benchmarks/1/` (a detail),
- `GET /datasets/?limit=32&offset=0` and `...&offset=N-32` (the first and the last page of N datasets, as the
  data owner: the visibility filter applies),
- `POST /datasets/` (a durable append with its projection; last, since it grows the list).

Prints one table (and `--json FILE` writes the rows). `--endpoints post --connections 50 --repeat 5` measures only
the write path, five times per setup: the machine's noise (±20 % on a shared VM) shows in the spread. wrk runs on
the same machine as the server, as the issue's comparison with MedPerf's server did.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from medperf_core import endpoints as table
from medperf_core.testing.server import ServerProcess, start_server

CONFIG = {
    "container_type": "DockerImage",
    "image": "bench/x:1",
    "tasks": {"infer": {"run_args": {"command": "true"}, "input_volumes": {}, "output_volumes": {}}},
}
LOAD_BEFORE = "?"
SETUPS = ("sqlite-1", "sqlite-2", "postgresql-1", "postgresql-2")
CONNECTIONS = (1, 50)


def _medperf() -> list[str]:
    script = Path(sys.executable).parent / "medperf"
    found = str(script) if script.exists() else shutil.which("medperf")
    if not found:
        raise SystemExit("the medperf console script is not installed (pip install -e '.[server,postgres]')")
    return [found]


def _session(server: ServerProcess, email: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token(email)}"
    return session


def dataset_body(i: int | str, prep: int) -> dict[str, Any]:
    return {"name": f"d{i}", "input_data_hash": f"h{i}", "generated_uid": f"h{i}", "data_preparation_mlcube": prep}


def fill(server: ServerProcess, datasets: int) -> int:
    """One benchmark (as testbo) and `datasets` datasets (as testdo); returns the preparation container's id."""
    bo, do = _session(server, "testbo@example.com"), _session(server, "testdo@example.com")
    ids = [
        bo.post(f"{server.api}/mlcubes/", json={"name": f"c{i}", "container_config": CONFIG}).json()["id"]
        for i in range(3)
    ]
    created = bo.post(
        f"{server.api}/benchmarks/",
        json={"name": "load", "data_preparation_mlcube": ids[0], "reference_model_mlcube": ids[1],
              "data_evaluator_mlcube": ids[2], "demo_dataset_tarball_url": "https://example.org/demo.tar.gz"},
    )
    assert created.status_code == 201 and created.json()["id"] == 1, created.text
    for i in range(datasets):
        response = do.post(f"{server.api}/datasets/", json=dataset_body(i, ids[0]))
        assert response.status_code == 201, response.text
    return ids[0]


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wrk(url: str, token: str, connections: int, duration: float, post_body: str | None = None,
        server_pids: list[int] = (), lua: str | None = None) -> dict[str, Any]:  # type: ignore[assignment]
    """One wrk run: {rps, p50, p99 (ms), requests, errors, cpu_ms (server CPU per request)}. `post_body`: POST it;
    `lua`: a wrk script of the caller's instead."""
    script = None
    if post_body is not None or lua is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115 (wrk reads it)
        script.write(lua if lua is not None else f'wrk.method = "POST"\nwrk.body = {json.dumps(post_body)}\n'
                     'wrk.headers["Content-Type"] = "application/json"\n')
        script.close()
    args = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s",
            "-H", f"Authorization: Bearer {token}", *(["-s", script.name] if script else []), url]
    cpu_before = cpu_seconds(list(server_pids))
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    finally:
        if script:
            os.unlink(script.name)
    percent = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.M))
    if "99" not in percent:
        raise RuntimeError(f"wrk gave no latency distribution:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "cpu_ms": (cpu_seconds(list(server_pids)) - cpu_before) * 1000 / max(1, requests_done),
        "p50": _ms(percent["50"]),
        "p99": _ms(percent["99"]),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "errors": (int(errors.group(1)) if errors else 0),
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


@contextlib.contextmanager
def database(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    from medperf_core.testing.postgres import fresh_database, unavailable

    reason = unavailable()
    if reason:
        raise SystemExit(reason)
    with fresh_database("medperf_bench") as url:
        yield url


ENDPOINTS = ("detail", "first", "last", "post")


def measure(setup: str, datasets: int, duration: float, endpoints: tuple[str, ...] = ENDPOINTS,
            connections: tuple[int, ...] = CONNECTIONS, repeat: int = 1,
            threads: int | None = None) -> list[dict[str, Any]]:
    kind, workers = setup.rsplit("-", 1)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, database(kind) as url:
        env = {"MEDPERF_HOME": str(Path(tmp) / "home")}
        with start_server(Path(tmp) / "server", env=env, command=_medperf(), workers=int(workers),
                          database=url, timeout=60,
                          extra_args=("--threads", str(threads)) if threads else ()) as server:
            t0 = time.perf_counter()
            prep = fill(server, datasets)
            print(f"[{setup}] filled {datasets} datasets in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            token = server.token("testdo@example.com")
            pids = sorted({server.process.pid, *server.worker_pids})
            last = max(0, datasets - 32)
            pages = f"{server.api}/datasets/?limit=32&offset="
            targets = {
                "detail": ("GET /benchmarks/1/", f"{server.api}/benchmarks/1/", None),
                "first": (f"GET /datasets/ first page of {datasets}", f"{pages}0", None),
                "last": (f"GET /datasets/ last page of {datasets}", f"{pages}{last}", None),
                "post": (table.endpoint("create_dataset").operation(), f"{server.api}/datasets/",
                         json.dumps(dataset_body("w", prep))),
            }
            for endpoint, target, body in (targets[name] for name in endpoints):
                for count in connections:
                    for _ in range(repeat):
                        result = wrk(target, token, count, duration, body, pids)
                        rows.append({"setup": setup, "endpoint": endpoint, "connections": count, **result})
                        print(f"[{setup}] {endpoint} c={count}: {result['rps']:.0f} req/s", file=sys.stderr)
        assert "Traceback" not in server.log(), server.log()[-3000:]
    return rows


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else cpu
    return f"{os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--only", default=",".join(SETUPS), help=f"comma-separated, of {', '.join(SETUPS)}")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help=f"comma-separated, of {', '.join(ENDPOINTS)}")
    parser.add_argument("--connections", default=",".join(map(str, CONNECTIONS)), help="comma-separated counts")
    parser.add_argument("--repeat", type=int, default=1, help="wrk runs per endpoint and connection count")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--threads", type=int, help="`server start --threads N` (default: the server's, by database)")
    args = parser.parse_args()
    endpoints = tuple(e for e in args.endpoints.split(",") if e)
    if not endpoints or set(endpoints) - set(ENDPOINTS):
        raise SystemExit(f"--endpoints {args.endpoints!r}: use a comma-separated list of {', '.join(ENDPOINTS)}")
    try:
        connections = tuple(int(c) for c in args.connections.split(",") if c)
    except ValueError:
        connections = ()
    if not connections or min(connections) < 1 or args.repeat < 1:
        raise SystemExit("--connections takes positive integers (e.g. 1,50) and --repeat a positive integer")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    setups = [s for s in args.only.split(",") if s]
    unknown = set(setups) - set(SETUPS)
    if unknown:
        raise SystemExit(f"unknown setup {', '.join(sorted(unknown))}; use {', '.join(SETUPS)}")
    global LOAD_BEFORE
    LOAD_BEFORE = f"{os.getloadavg()[0]:.1f}"
    rows = [row for setup in setups
            for row in measure(setup, args.datasets, args.duration, endpoints, connections, args.repeat,
                               args.threads)]
    print(f"machine: {machine()}; wrk {args.duration:g} s per row, on the same machine")
    print(f"load average before: {LOAD_BEFORE}; after: {os.getloadavg()[0]:.1f} (other work on the machine skews req/s;"
          " the server's CPU ms per request much less)")
    print(f"{'setup':<14} {'endpoint':<36} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} "
          f"{'errors':>6}")
    for r in rows:
        print(f"{r['setup']:<14} {r['endpoint']:<36} {r['connections']:>5} {r['rps']:>8.0f} {r['p50']:>8.1f} "
              f"{r['p99']:>8.1f} {r['cpu_ms']:>7.2f} {r['errors']:>6}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
