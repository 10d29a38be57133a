"""The server killed (SIGKILL) during a burst of concurrent writes: every acknowledged write survives the restart,
and the writes retried with their Idempotency-Key afterwards are not duplicated."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from medperf_core.server.storage import open_server_storage
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, free_port, start_server

WRITERS = 6
PER_WRITER = 25


def _burst(server: ServerProcess, token: str, prep: int, bodies: list[dict[str, Any]], keys: list[str],
           acked: dict[str, int]) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for body, key in zip(bodies, keys, strict=True):
        try:
            answer = session.post(f"{server.api}/datasets/", json=body, headers={"Idempotency-Key": key}, timeout=10)
        except requests.RequestException:
            return  # the server is gone: the rest are retried after the restart
        if answer.status_code == 201:
            acked[key] = int(answer.json()["id"])


def test_acknowledged_writes_survive_and_retries_are_not_duplicated(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    env = {"MEDPERF_HOME": str(tmp_path / "home")}
    server = start_server(data, port=port, env=env, workers=2)
    token = server.token(DEMO_EMAILS["do"])
    bo = {"Authorization": f"Bearer {server.token(DEMO_EMAILS['bo'])}"}
    config = {"container_type": "DockerImage", "image": "x:1", "tasks": {"prepare": {"run_args": {"command": "p"}}}}
    prep = requests.post(f"{server.api}/mlcubes/", json={"name": "prep", "container_config": config}, headers=bo,
                         timeout=10).json()["id"]
    plan = []
    for _ in range(WRITERS):
        raws = [uuid.uuid4().hex for _ in range(PER_WRITER)]
        plan.append(([{"name": f"burst-{raw[:12]}", "input_data_hash": raw, "generated_uid": raw,
                       "data_preparation_mlcube": prep} for raw in raws], [str(uuid.uuid4()) for _ in raws]))
    acked: dict[str, int] = {}
    threads = [threading.Thread(target=_burst, args=(server, token, prep, b, k, acked)) for b, k in plan]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acked) < WRITERS * PER_WRITER // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    for pid in [*server.worker_pids, server.process.pid]:  # the whole server, at once, mid-burst
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait()
    for thread in threads:
        thread.join()
    acknowledged = dict(acked)
    assert 0 < len(acknowledged) < WRITERS * PER_WRITER, len(acknowledged)

    with start_server(data, port=port, env=env) as again:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {again.token(DEMO_EMAILS['do'])}"
        final: dict[str, int] = {}
        for bodies, keys in plan:  # every write again with its key: the acknowledged ones answer the same entity
            for body, key in zip(bodies, keys, strict=True):
                answer = session.post(f"{again.api}/datasets/", json=body, headers={"Idempotency-Key": key},
                                      timeout=10)
                assert answer.status_code == 201, answer.text
                final[key] = int(answer.json()["id"])
        assert all(final[key] == ident for key, ident in acknowledged.items())
        rows = session.get(f"{again.api}/me/datasets/?limit=1000", timeout=10).json()["results"]
        names = [r["name"] for r in rows if r["name"].startswith("burst-")]
        assert len(names) == len(set(names)) == WRITERS * PER_WRITER
    with open_server_storage(data, audit=True).store as store:
        assert store.verify().ok
        assert store.replay(rebuild=False).equal
