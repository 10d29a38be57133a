"""`medperf server start` without the server extra: one line naming what to install, a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def start_server(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`medperf server start --data-dir tmp_path/data ARGS` in a process of its own, with a home under tmp_path."""
    return subprocess.run(
        [sys.executable, "-c", "from medperf_core.cli.main import main; main()", "server", "start",
         "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "MEDPERF_HOME": str(tmp_path / "home")},
    )


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn", "python_multipart"])
def test_start_without_the_server_extra_names_the_package(tmp_path: Path, missing: str) -> None:
    # sys.modules[name] = None makes `import name` raise ModuleNotFoundError, as when it is not installed.
    code = f"import sys; sys.modules[{missing!r}] = None; from medperf_core.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "server", "start", "--data-dir", str(tmp_path / "data"), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MEDPERF_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"❌ Error: medperf server needs the Python package {missing!r}, which is not installed "
        "(install the server extra: pip install 'medperf[server]')"
    ]
    assert not (tmp_path / "data").exists()


def test_start_with_a_database_url_keeps_the_log_there(tmp_path: Path) -> None:
    import requests

    from medperf_core.server.storage import open_server_storage
    from medperf_core.testing.server import start_server

    database = tmp_path / "elsewhere" / "medperf.db"
    server = start_server(tmp_path / "data", extra_args=("--database", f"sqlite://{database}"))
    try:
        token = server.token("testdo@example.com")
        me = requests.get(f"{server.api}/me/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200, me.text
    finally:
        server.stop()
    assert not (tmp_path / "data" / "events.db").exists()
    storage = open_server_storage(f"sqlite://{database}", audit=True)
    try:
        assert [e.type for e in storage.store.read_all()] == ["user.registered"]
    finally:
        storage.store.close()


def test_start_with_an_unknown_database_scheme_names_the_known_ones(tmp_path: Path) -> None:
    done = start_server(tmp_path, "--database", "mysql://db/medperf")
    assert done.returncode == 2, done.stderr
    assert "no event recorder for 'mysql'" in done.stderr and "known: " in done.stderr
    assert "postgresql" in done.stderr and "sqlite" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("level", ["warning", "info"])
def test_access_log_shows_each_request_line(tmp_path: Path, level: str) -> None:
    import urllib.error
    import urllib.request

    from medperf_core.testing.server import start_server

    args = ("--access-log", "--log-level", level)
    env = {"MEDPERF_HOME": str(tmp_path / "h")}
    with start_server(tmp_path / "data", extra_args=args, env=env) as server, pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{server.api}/benchmarks", timeout=10)  # no token: 401
    assert '"GET /api/v0/benchmarks HTTP/1.1" 401' in server.log(), server.log()[-2000:]
    assert '"GET /healthz HTTP/1.1" 200' in server.log()


def test_without_access_log_no_request_lines(tmp_path: Path) -> None:
    from medperf_core.testing.server import start_server

    with start_server(tmp_path / "data", env={"MEDPERF_HOME": str(tmp_path / "h")}) as server:
        pass
    assert "GET /healthz" not in server.log()


def test_an_unknown_log_level_is_refused(tmp_path: Path) -> None:
    done = start_server(tmp_path, "--log-level", "loud")
    assert done.returncode == 2 and "unknown log level 'loud'" in done.stderr



def test_start_on_an_unreachable_postgresql_is_one_line(tmp_path: Path, postgres_url: str) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    done = start_server(tmp_path, "--database", missing)
    assert done.returncode != 0, done.stderr
    assert "cannot connect to PostgreSQL" in done.stderr and "no_such_database" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_local_auth_beyond_loopback_is_refused(tmp_path: Path) -> None:
    done = start_server(tmp_path, "--host", "0.0.0.0")
    assert done.returncode == 2, done.stderr
    assert "--auth local on --host 0.0.0.0" in done.stderr and "--insecure-demo-auth" in done.stderr
    assert not (tmp_path / "data" / "events.db").exists()


def test_local_auth_beyond_loopback_runs_when_told_and_says_so_loudly(tmp_path: Path) -> None:
    from medperf_core.testing.server import start_server

    args = ("--host", "0.0.0.0", "--insecure-demo-auth")
    with start_server(tmp_path / "data", extra_args=args, env={"MEDPERF_HOME": str(tmp_path / "h")}) as server:
        assert server.token("testadmin@example.com")
    assert "WARNING: --auth local on 0.0.0.0" in server.log()


def test_a_thread_count_below_one_is_refused(tmp_path: Path) -> None:
    done = start_server(tmp_path, "--threads", "0")
    assert done.returncode != 0
    assert "--threads" in done.stderr and "greater than or equal to 1" in done.stderr, done.stderr
    assert not (tmp_path / "data").exists()


def test_the_start_up_line_names_the_pages_and_they_answer(tmp_path: Path) -> None:
    import urllib.request

    from medperf_core.testing.server import start_server

    with start_server(tmp_path / "data", env={"MEDPERF_HOME": str(tmp_path / "h")}) as server:
        line = next(x for x in server.log().splitlines() if x.startswith("medperf server on"))
        assert f"{server.url}/api/v0/" in line and f"pages at {server.url}/ui/" in line, line
        with urllib.request.urlopen(f"{server.url}/ui/", timeout=10) as page:
            assert page.status == 200 and "html" in page.headers["Content-Type"]


def test_a_port_in_use_is_one_line_and_no_success_line_before_it(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = start_server(tmp_path, "--port", str(port))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"❌ Error: port {port} on 127.0.0.1 is already in use (stop what listens there, e.g. another medperf "
        "server, or choose another --port)"
    ]
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()
