"""Run a real medperf server (`medperf server start`) in a subprocess on a free loopback port, for tests."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

DEMO_EMAILS = {
    "admin": "testadmin@example.com",
    "bo": "testbo@example.com",
    "mo": "testmo@example.com",
    "do": "testdo@example.com",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def medperf_command() -> list[str]:
    """`medperf` of this interpreter's environment (works without the venv on PATH)."""
    return [sys.executable, "-c", "from medperf_core.cli.main import main; main()"]


@attrs.define
class ServerProcess:
    """A running server: its base URL, data dir and process; `token(email)` logs a demo user in."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    _tokens: dict[str, str] = attrs.field(factory=dict)
    worker_pids: list[int] = attrs.field(factory=list)  # the server processes seen answering at start
    database: str | None = None  # the --database URL it was started with (None: SQLite in data_dir)

    @property
    def where(self) -> str | Path:
        """What `open_server_storage` opens to read this server's state: its database URL or its data dir."""
        return self.database if self.database is not None else self.data_dir

    def audit_args(self) -> tuple[str, str]:
        """The `medperf events ...` option that names this server's log."""
        return ("--database", self.database) if self.database else ("--server-data-dir", str(self.data_dir))

    @property
    def api(self) -> str:
        return f"{self.url}/api/v0"

    def token(self, email: str) -> str:
        if email not in self._tokens:
            request = urllib.request.Request(
                f"{self.api}/auth/local/token/",
                data=json.dumps({"email": email}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                self._tokens[email] = json.loads(response.read())["token"]
        return self._tokens[email]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_server(
    data_dir: Path,
    port: int | None = None,
    *,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    command: list[str] | None = None,
    workers: int = 1,
    database: str | None = None,
) -> ServerProcess:
    """Start `medperf server start --port P --data-dir DIR [--workers N]` and wait until /healthz answers
    (with N > 1: until N distinct worker processes have answered).

    `command` replaces how `medperf` is invoked (default: this interpreter running the CLI); `database` is
    passed as `--database` (default: SQLite in the data dir).
    """
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    args = [
        *(command or medperf_command()),
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *(("--workers", str(workers)) if workers > 1 else ()),
        *(("--database", database) if database else ()),
        *extra_args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    scheme = "https" if "--ssl-certfile" in extra_args else "http"
    server = ServerProcess(
        url=f"{scheme}://127.0.0.1:{port}", data_dir=data_dir, process=process, log_path=log_path, database=database
    )
    # Readiness only: the certificate itself is what the tests check, through the client.
    probe_context = ssl._create_unverified_context() if scheme == "https" else None
    deadline = time.monotonic() + timeout
    answered: set[str] = set()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log()[-2000:]}")
        try:
            if workers == 1:
                answered.add(_probe(server.url, probe_context))
            else:
                with ThreadPoolExecutor(workers * 2) as pool:  # parallel probes reach every worker
                    answered |= set(pool.map(lambda _: _probe(server.url, probe_context), range(workers * 2)))
            if len(answered) >= workers:
                server.worker_pids = sorted(int(pid) for pid in answered if pid.isdigit())
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(
        f"the server did not answer within {timeout}s ({len(answered)} of {workers} workers did):\n"
        f"{server.log()[-2000:]}"
    )


def _probe(url: str, context: ssl.SSLContext | None) -> str:
    """/healthz on a new connection: the answering worker's PID ("?" from a server without the header)."""
    with urllib.request.urlopen(f"{url}/healthz", timeout=1, context=context) as response:
        return str(response.headers.get("X-Medperf-Worker", "?"))


def worker_pid(url: str) -> int:
    """The PID of the server process that answers one /healthz on a new connection."""
    return int(_probe(url, ssl._create_unverified_context() if url.startswith("https") else None))
