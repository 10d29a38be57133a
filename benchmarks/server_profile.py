"""Where a request's time goes: py-spy samples a server under wrk and sorts the busy samples into parts.

    python benchmarks/server_profile.py [/benchmarks/1/] [--database sqlite|postgresql] [--seconds 6]
                                        [--post | --put] [--gil] [--raw FILE]

Starts a server (one worker) filled as `server_load.py` fills it, runs wrk with 50 connections on the path as the
data owner (`--post`: `POST /datasets/` with server_load's body; `--put`: `PUT /datasets/{id}/` with a new report,
as `server_ab.py --write put` sends them), records the server with py-spy
(`pip install py-spy`; `--gil`: only the thread holding the GIL, i.e. where the CPU goes) and prints the share of
busy samples per part (kept answers, auth, the database, serialisation, validation, the services, the HTTP
layer) and the hottest lines.
Each sample is given to the innermost frame that belongs to a part. py-spy slows the server down; compare shares,
not req/s.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server_load

from medperf_core.endpoints import endpoint
from medperf_core.testing.server import start_server

PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("kept answers", ("medperf_core/server/answers.py",)),
    ("auth", ("medperf_core/server/auth.py", "jwt/", "hmac")),
    ("database", ("sqlite3", "psycopg", "medperf_core/store/")),
    ("serialisation", ("json/", "render (starlette", "jsonable_encoder", "serialize_response")),
    ("validation", ("pydantic", "fastapi/dependencies", "medperf_core/server/services/fields.py")),
    ("services", ("medperf_core/server/services", "medperf_core/domain")),
    ("http layer", ("uvicorn", "starlette", "fastapi", "asyncio", "uvloop", "anyio", "httptools", "threading")),
]
IDLE = ("select (selectors", "_worker (concurrent", "wait (threading", "get (queue", "run_forever", "_run_once")


def part_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, keys in PARTS:
            if any(k in frame for k in keys):
                return name
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default="/benchmarks/1/")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--top", type=int, default=12, help="how many hottest lines to print")
    writes = parser.add_mutually_exclusive_group()
    writes.add_argument("--post", action="store_true", help="profile POST /datasets/ (a create) instead")
    writes.add_argument("--put", action="store_true", help="profile PUT /datasets/{id}/ (an update) instead")
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL: where the CPU goes, not who waits")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's samples (collapsed stacks) in this file")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists() or not shutil.which("wrk"):
        raise SystemExit("needs py-spy (pip install py-spy) and wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp, server_load.database(args.database) as url, start_server(
        Path(tmp) / "server", env={"MEDPERF_HOME": f"{tmp}/home"}, command=server_load._medperf(), database=url,
        timeout=60,
    ) as server:
        prep = server_load.fill(server, args.datasets)
        token = server.token("testdo@example.com")
        script: list[str] = []
        if args.post:
            args.path = endpoint("create_dataset").path
            lua = Path(tmp) / "post.lua"
            body = json.dumps(server_load.dataset_body("w", prep))
            lua.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                           'wrk.headers["Content-Type"] = "application/json"\n')
            script = ["-s", str(lua)]
        elif args.put:
            import server_ab

            args.path = endpoint("create_dataset").path  # the script adds each request's id
            lua = Path(tmp) / "put.lua"
            lua.write_text(server_ab.put_script(args.datasets))
            script = ["-s", str(lua)]
        wrk = subprocess.Popen(
            ["wrk", "-t2", "-c50", f"-d{args.seconds + 2}s", "-H", f"Authorization: Bearer {token}", *script,
             (server.url if args.path.startswith("/healthz") else server.api) + args.path],
            stdout=subprocess.PIPE, text=True,
        )
        time.sleep(1)
        raw = Path(tmp) / "samples.txt"
        subprocess.run(
            [py_spy, "record", "-p", str(server.process.pid), "-d", str(args.seconds), "-f", "raw", "-o", str(raw),
             "-r", "200", "--nonblocking", *(["--gil"] if args.gil else [])],
            capture_output=True, check=True,
        )
        out = wrk.communicate()[0]
        samples = raw.read_text()
    if args.raw is not None:
        args.raw.write_text(samples)
    parts: collections.Counter[str] = collections.Counter()
    lines: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in samples.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(k in frames[-1] for k in IDLE):
            continue
        n = int(count)
        busy += n
        parts[part_of(frames)] += n
        lines[frames[-1]] += n
    rate = next((x for x in out.splitlines() if x.startswith("Requests/sec")), "")
    method = "POST" if args.post else "PUT" if args.put else "GET"
    shown = endpoint("update_dataset").path if args.put else args.path
    print(f"{method} {shown} on {args.database}, 50 connections, under py-spy: {rate}; {busy} busy samples")
    for name, n in parts.most_common():
        print(f"  {name:<14} {100 * n / max(1, busy):5.1f} %")
    print("hottest lines:")
    for frame, n in lines.most_common(args.top):
        print(f"  {100 * n / max(1, busy):5.1f} %  {frame[:140]}")


if __name__ == "__main__":
    main()
