"""Paired comparison of server variants under load: every variant runs at once, wrk alternates between them.

    python benchmarks/server_ab.py VARIANT VARIANT [...] [--database sqlite|postgresql] [--workers 1]
                                   [--rounds 8] [--seconds 3] [--write post|put|detail|first|last|get,...]
                                   [--json FILE]

A VARIANT is `label[:threads[:PYTHONPATH[:NAME=VALUE,...]]]`: the label printed, `server start --threads` (empty:
the server's default), a PYTHONPATH that puts another checkout's code first (a git worktree of the change to
judge; empty: this checkout) and environment variables. Example, the code of /work/change against this one:

    python benchmarks/server_ab.py before after::/work/change --database postgresql

On a shared 2-vCPU VM the same setup measured a minute apart varies by 20-40 % (server_load.py's note), more than
most changes are worth. Here every variant is started (with `--workers` processes) and filled (as server_load.py
fills it) before any is measured, then each round runs every endpoint of `--write` with 50 connections for
`--seconds` on each variant in turn, the order reversed every other round, so that the machine's slow and fast
minutes fall on all of them alike. The endpoints (comma-separated; `get` is detail,first,last):

- post: `POST /datasets/`; put: `PUT /datasets/{id}/` with a new report, on random datasets;
- detail: `GET /benchmarks/1/`; first, last: `GET /datasets/?limit=32&offset=0` and the last page of the filled
  datasets, as their owner (server_load.py's read matrix). Measure reads in a run of their own: a POST grows
  the list.

Prints, per endpoint and variant, the medians over the rounds of req/s, p50, p99 and the server's CPU ms per
request, the spread of req/s and p99 (lowest-highest), and against the first variant the median of the rounds'
paired ratios (req/s and p99 of the variant over the first's in the same round).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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


ENDPOINTS = ("post", "put", "detail", "first", "last")


def endpoints_of(text: str) -> list[str]:
    names = [n for part in text.split(",") if part
             for n in (("detail", "first", "last") if part == "get" else (part,))]
    unknown = sorted(set(names) - set(ENDPOINTS))
    if not names or unknown:
        raise SystemExit(f"--write {text!r}: use a comma-separated list of {', '.join(ENDPOINTS)} or get")
    return list(dict.fromkeys(names))


def target(name: str, server: Any, body: str, datasets: int) -> tuple[str, str | None, str | None]:
    """(url, POST body, wrk Lua) of one measured endpoint on one server; paths from the endpoint table."""
    api = server.api
    if name == "post":
        return api + endpoint("create_dataset").url(()), body, None
    if name == "put":  # the Lua appends each request's dataset id and its slash
        return api + endpoint("list_datasets").url(()), None, put_script(datasets)
    if name == "detail":
        return api + endpoint("get_benchmark").url((1,)), None, None
    offset = 0 if name == "first" else max(0, datasets - 32)
    return f"{api}{endpoint('list_datasets').url(())}?limit=32&offset={offset}", None, None


TITLES = {"post": endpoint("create_dataset").operation(), "put": "PUT a dataset's report", "detail": "GET benchmark 1",
          "first": "GET the first page of datasets", "last": "GET the last page of datasets"}


def spread(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f}"


def report(name: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    base_label = next(iter(rows))
    base = rows[base_label]
    print(f"{TITLES[name]}")
    print(f"{'variant':<12} {'req/s':>7} {'(spread)':>12} {'p50 ms':>7} {'p99 ms':>7} {'(spread)':>10} {'CPU ms':>7} "
          f"{'errors':>6}  vs {base_label}: req/s, p99 (median of paired ratios)")
    for label, runs in rows.items():
        def median(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(r[key] for r in runs))

        rps_ratio = statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base, strict=True))
        p99_ratio = statistics.median(r["p99"] / b["p99"] for r, b in zip(runs, base, strict=True))
        print(f"{label:<12} {median('rps'):>7.0f} {spread([r['rps'] for r in runs]):>12} {median('p50'):>7.1f} "
              f"{median('p99'):>7.1f} {spread([r['p99'] for r in runs]):>10} {median('cpu_ms'):>7.2f} "
              f"{sum(r['errors'] for r in runs):>6}  {rps_ratio - 1:+.0%}, {p99_ratio - 1:+.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+", help="label[:threads[:PYTHONPATH[:NAME=VALUE,...]]]")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="server processes of each variant")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run")
    parser.add_argument("--datasets", type=int, default=1000, help="datasets each server is filled with first")
    parser.add_argument("--write", default="post",
                        help="comma-separated endpoints: post (POST /datasets/), put (PUT /datasets/{id}/ with a new "
                             "report, on random datasets), detail, first, last (reads), get (the three reads)")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args()
    endpoints = endpoints_of(args.write)
    variants = [parse_variant(v) for v in args.variants]
    if len({v[0] for v in variants}) != len(variants) or args.rounds < 1 or args.workers < 1:
        raise SystemExit("give each variant its own label, and --rounds and --workers at least 1")
    load_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        running: list[tuple[str, Any, str, str, list[int]]] = []
        for label, threads, pythonpath, extra_env in variants:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = stack.enter_context(server_load.database(args.database))
            env = {"MEDPERF_HOME": str(tmp / "home"), **extra_env}
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            server = stack.enter_context(start_server(
                tmp / "server", env=env, command=server_load._medperf(), database=url, timeout=60,
                workers=args.workers, extra_args=("--threads", threads) if threads else (),
            ))
            prep = server_load.fill(server, args.datasets)
            body = json.dumps(server_load.dataset_body("w", prep))
            pids = sorted({server.process.pid, *server.worker_pids})
            running.append((label, server, server.token("testdo@example.com"), body, pids))
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {e: {label: [] for label, *_ in running} for e in endpoints}
        for round_number in range(args.rounds):
            for name in endpoints:
                for label, server, token, body, pids in running if round_number % 2 == 0 else running[::-1]:
                    url, post_body, lua = target(name, server, body, args.datasets)
                    run = server_load.wrk(url, token, 50, args.seconds, post_body, pids, lua=lua)
                    rows[name][label].append(run)
                    print(f"[round {round_number + 1}] {name} {label}: {run['rps']:.0f} req/s", file=sys.stderr)
        for label, server, *_ in running:
            if "Traceback" in server.log():
                print(f"{label}: the server's log has a traceback:\n{server.log()[-3000:]}", file=sys.stderr)
    print(f"{args.database}, {args.workers} worker(s), 50 connections, {args.rounds} rounds of {args.seconds:g} s "
          f"(medians); load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"machine: {server_load.machine()}")
    for name in endpoints:
        report(name, rows[name])
    if args.json:
        args.json.write_text(json.dumps({"database": args.database, "workers": args.workers, "rounds": args.rounds,
                                         "seconds": args.seconds, "variants": args.variants, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
