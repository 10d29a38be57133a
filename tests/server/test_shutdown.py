"""A stopping server waits for requests in flight for a bounded time (`--shutdown-timeout`), then stops."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests
from _server_helpers import CONFIG, unique

from medperf_core.testing.server import DEMO_EMAILS, start_server

HELD = 60  # seconds every write is held after its commit (MEDPERF_SERVER_COMMIT_DELAY): a request that never ends


def test_sigterm_stops_a_server_with_a_request_in_flight_within_the_timeout(tmp_path: Path) -> None:
    env = {"MEDPERF_HOME": str(tmp_path / "home"), "MEDPERF_SERVER_COMMIT_DELAY": str(HELD)}
    with start_server(tmp_path / "data", env=env, extra_args=("--shutdown-timeout", "2")) as server:
        token = server.token(DEMO_EMAILS["mo"])
        outcome: list[object] = []

        def write() -> None:
            try:
                outcome.append(requests.post(
                    f"{server.api}/mlcubes/", timeout=HELD * 2, headers={"Authorization": f"Bearer {token}"},
                    json={"name": unique("held"), "container_config": CONFIG},
                ).status_code)
            except requests.RequestException as e:
                outcome.append(e)

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(2)  # the write is committed and held
        assert writer.is_alive()
        stopping = time.monotonic()
        server.process.terminate()
        server.process.wait(timeout=HELD / 2)  # before the fix: waited for the held request, HELD s
        took = time.monotonic() - stopping
        writer.join(timeout=10)
    assert took < 10, took
    assert not writer.is_alive() and outcome, "the request in flight was closed, not left open"
