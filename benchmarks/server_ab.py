"""Paired comparison of server variants under write load: every variant runs at once, wrk alternates between them.

    python benchmarks/server_ab.py VARIANT VARIANT [...] [--database sqlite|postgresql] [--rounds 8] [--seconds 3]
                                   [--write post|put]

A VARIANT is `label[:threads[:PYTHONPATH[:NAME=VALUE,...]]]`: the label printed, `server start --threads` (empty:
the server's default), a PYTHONPATH that puts another checkout's code first (a git worktree of the change to
judge; empty: this checkout) and environment variables. Example, the code of /work/change against this one:

    python benchmarks/server_ab.py before after::/work/change --database postgresql

On a shared 2-vCPU VM the same setup measured a minute apart varies by 20-40 % (server_load.py's note), more than
most changes are worth. Here every variant is started and filled (as server_load.py fills it) before any is
measured, then each round runs `POST /datasets/` (`--write put`: `PUT /datasets/{id}/` with a new report, on
random datasets) with 50 connections for `--seconds` on each variant in turn, the
order reversed every other round, so that the machine's slow and fast minutes fall on all of them alike. Prints,
per variant, the medians over the rounds of req/s, p50, p99 and the server's CPU ms per request, and every p99.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server_load

from medperf_core.endpoints import endpoint
from medperf_core.testing.server import start_server


def parse_variant(text: str) -> tuple[str, str, str, dict[str, str]]:
    label, threads, pythonpath, env_text = [*text.split(":", 3), "", "", ""][:4]
    if not label or (threads and not threads.isdigit()):
        raise SystemExit(f"variant {text!r}: use label[:threads[:PYTHONPATH[:NAME=VALUE,...]]]")
    env = {}
    for pair in filter(None, env_text.split(",")):
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"variant {text!r}: {pair!r} is not NAME=VALUE")
        env[name] = value
    return label, threads, pythonpath, env


def put_script(datasets: int, threads: int = 2) -> str:
    """wrk's Lua: each request a PUT of a new preparation report to a dataset (the data owner's progress reports;
    datasets 1..N are the owner's, made by `fill`). Each of wrk's `threads` takes its own datasets in turn, so no
    two requests in flight update the same one (that would measure the retries of a hot stream instead)."""
    return (
        'wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\n'
        "local threads = 0\nfunction setup(thread)\n  thread:set(\"part\", threads)\n  threads = threads + 1\nend\n"
        "local n = 0\nrequest = function()\n  n = n + 1\n"
        f"  local id = (n * {threads} + part) % {datasets} + 1\n"
        '  local body = \'{"report": {"execution_status": "running", "progress": \' .. n .. \'}}\'\n'
        '  return wrk.format(nil, wrk.path .. id .. "/", nil, body)\nend\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+", help="label[:threads[:PYTHONPATH[:NAME=VALUE,...]]]")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run")
    parser.add_argument("--datasets", type=int, default=1000, help="datasets each server is filled with first")
    parser.add_argument("--write", choices=("post", "put"), default="post",
                        help="post: POST /datasets/; put: PUT /datasets/{id}/ with a new report, on random datasets")
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variants]
    if len({v[0] for v in variants}) != len(variants) or args.rounds < 1:
        raise SystemExit("give each variant its own label, and --rounds at least 1")
    with contextlib.ExitStack() as stack:
        running: list[tuple[str, Any, str, str]] = []
        for label, threads, pythonpath, extra_env in variants:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = stack.enter_context(server_load.database(args.database))
            env = {"MEDPERF_HOME": str(tmp / "home"), **extra_env}
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            server = stack.enter_context(start_server(
                tmp / "server", env=env, command=server_load._medperf(), database=url, timeout=60,
                extra_args=("--threads", threads) if threads else (),
            ))
            prep = server_load.fill(server, args.datasets)
            body = json.dumps(server_load.dataset_body("w", prep))
            running.append((label, server, server.token("testdo@example.com"), body))
        rows: dict[str, list[dict[str, Any]]] = {label: [] for label, *_ in running}
        lua = put_script(args.datasets) if args.write == "put" else None
        for round_number in range(args.rounds):
            for label, server, token, body in running if round_number % 2 == 0 else running[::-1]:
                rows[label].append(server_load.wrk(f"{server.api}/datasets/", token, 50, args.seconds,
                                                   None if lua else body, [server.process.pid], lua=lua))
                print(f"[round {round_number + 1}] {label}: {rows[label][-1]['rps']:.0f} req/s", file=sys.stderr)
    what = "PUT /datasets/{id}/ (a report)" if args.write == "put" else endpoint("create_dataset").operation()
    print(f"{what}, 50 connections, {args.database}, {args.rounds} rounds of {args.seconds:g} s "
          f"(medians); machine: {server_load.machine()}")
    print(f"{'variant':<12} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'errors':>7}  every p99")
    for label, runs in rows.items():
        def median(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(r[key] for r in runs))

        print(f"{label:<12} {median('rps'):>7.0f} {median('p50'):>7.1f} {median('p99'):>7.1f} "
              f"{median('cpu_ms'):>7.2f} {sum(r['errors'] for r in runs):>7}  {[round(r['p99']) for r in runs]}")


if __name__ == "__main__":
    main()
