"""Start several writers at once and tally who won: the core of every optimistic-concurrency test."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from medperf_core.errors import ConcurrencyError, ConflictError

WORKER_HEADER = "X-Medperf-Worker"  # medperf_core.server.app.WORKER_HEADER (not imported: no fastapi needed)


def race_outcomes(work: Callable[[int], object], writers: int) -> dict[int, str]:
    """Run `work(i)` in `writers` threads released together; per writer "ok", "conflict" (ConcurrencyError), "key
    taken" (ConflictError) or "error: <type>: <message>" for anything else, so that assertions name it."""
    barrier = threading.Barrier(writers)
    outcomes: dict[int, str] = {}

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            outcomes[i] = "ok"
        except ConcurrencyError:
            outcomes[i] = "conflict"
        except ConflictError:
            outcomes[i] = "key taken"
        except Exception as e:
            outcomes[i] = f"error: {type(e).__name__}: {e}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def race_threads(append: Callable[[int], object], writers: int) -> list[str]:
    """Run `append(i)` in `writers` threads released together; one "ok" or "conflict" per writer."""
    return list(race_outcomes(append, writers).values())


@attrs.frozen
class HttpCall:
    """One request of an HTTP race: method, full http:// URL, bearer token and JSON body; `worker`: the PID of
    the server process that must answer it (the client reconnects until its connection is served by it);
    `after`: seconds to wait after the common start (to order racers inside a server's decision window)."""

    method: str
    url: str
    token: str | None = None
    body: Any = None
    worker: int | None = None
    after: float = 0.0
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class HttpOutcome:
    status: int  # 0 when no response came back (the text says why)
    text: str
    client_pid: int  # the client process that sent it
    served_by: int | None  # the server process that answered (its X-Medperf-Worker header)


def race_http(calls: Sequence[HttpCall], timeout: float = 60.0) -> list[HttpOutcome]:
    """Send each call from its own OS process (spawned: nothing shared with the caller), all released together
    by a barrier once every process is up; the outcomes in the order of `calls`."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(calls))
    results = context.Queue()
    processes = [
        context.Process(target=_send, args=(i, call, barrier, results, timeout), daemon=True)
        for i, call in enumerate(calls)
    ]
    for process in processes:
        process.start()
    try:
        found: dict[int, HttpOutcome] = {}
        for _ in calls:
            index, outcome = results.get(timeout=timeout + 60)
            found[index] = outcome
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return [found[i] for i in range(len(calls))]


def _connection(call: HttpCall, timeout: float) -> http.client.HTTPConnection:
    """A keep-alive connection to the server (to `call.worker` when given: reconnect until that process answers)."""
    url = urllib.parse.urlsplit(call.url)
    if url.scheme != "http":
        raise ValueError(f"race_http speaks plain http, not {call.url}")
    for _ in range(500):
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=timeout)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        if call.worker is None or response.getheader(WORKER_HEADER) == str(call.worker):
            return connection
        connection.close()
    raise RuntimeError(f"server process {call.worker} never answered a new connection")


def _send(index: int, call: HttpCall, barrier: Any, results: Any, timeout: float) -> None:
    headers = {"Content-Type": "application/json"}
    if call.token:
        headers["Authorization"] = f"Bearer {call.token}"
    headers.update(call.headers)
    body = None if call.body is None else json.dumps(call.body)
    url = urllib.parse.urlsplit(call.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    barrier.wait(timeout=timeout)
    start = time.monotonic()  # one clock for every process of the machine
    try:
        connection = _connection(call, timeout)
        time.sleep(max(0.0, start + call.after - time.monotonic()))
        connection.request(call.method, target, body=body, headers=headers)
        response = connection.getresponse()
        served_by = response.getheader(WORKER_HEADER)
        outcome = HttpOutcome(
            response.status,
            response.read().decode(errors="replace"),
            os.getpid(),
            int(served_by) if served_by else None,
        )
        connection.close()
    except (OSError, RuntimeError, http.client.HTTPException) as e:
        outcome = HttpOutcome(0, repr(e), os.getpid(), None)
    results.put((index, outcome))
