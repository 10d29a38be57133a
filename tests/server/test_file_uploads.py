"""`POST /files/` on a real server: a file part only, a size limit (413) that stops reading the upload, and stored
files no registered entity references removed after a grace period (at start-up and by `server gc-files`)."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

import pytest
import requests
from _server_helpers import CONFIG, run_medperf

from medperf_core.testing.server import ServerProcess, start_server


def _headers(server: ServerProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('testdo@example.com')}"}


def _stored(server: ServerProcess) -> set[str]:
    root = server.data_dir / "files"
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


@pytest.fixture
def small_server(tmp_path: Path) -> ServerProcess:
    server = start_server(tmp_path / "db", extra_args=("--max-file-mb", "1"), env={"MEDPERF_HOME": str(tmp_path)})
    yield server  # type: ignore[misc]
    server.stop()
    assert "Traceback" not in server.log(), server.log()[-3000:]


def test_a_plain_form_value_is_not_a_file(small_server: ServerProcess) -> None:
    response = requests.post(small_server.api + "/files/", data={"file": "tasks: {}"},
                             headers=_headers(small_server), timeout=10)
    assert response.status_code == 400, response.text
    assert list(response.json()) == ["file"] and "file part" in response.json()["file"][0], response.text
    assert _stored(small_server) == set()
    stored = requests.post(small_server.api + "/files/", files={"file": ("c.yaml", b"tasks: {}")},
                           headers=_headers(small_server), timeout=10)
    assert stored.status_code == 201, stored.text


def test_an_upload_past_the_limit_is_413_and_nothing_is_kept(small_server: ServerProcess) -> None:
    limit = 1024 * 1024
    fits = requests.post(small_server.api + "/files/", files={"file": ("w.bin", b"x" * limit)},
                         headers=_headers(small_server), timeout=30)
    assert fits.status_code == 201, fits.text
    over = requests.post(small_server.api + "/files/", files={"file": ("w.bin", b"y" * (limit + 1))},
                         headers=_headers(small_server), timeout=30)
    assert over.status_code == 413, over.text
    detail = over.json()["detail"]
    assert "limit of 1 MB" in detail and "--max-file-mb" in detail, detail
    chunked = requests.post(  # no Content-Length: refused while it arrives
        small_server.api + "/files/", headers={**_headers(small_server), "Content-Type": "application/octet-stream"},
        data=(b"z" * 65536 for _ in range(40)), timeout=30,
    )
    assert chunked.status_code in (400, 413), chunked.text
    assert _stored(small_server) == {hashlib.sha256(b"x" * limit).hexdigest()}


def test_the_server_stops_reading_an_upload_at_the_limit(small_server: ServerProcess) -> None:
    """A client announcing 200 MB and sending 3 MB gets its 413 at once: the server never waits for (nor spools to
    disk) the rest of the upload."""
    host, port = small_server.url.removeprefix("http://").split(":")
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"w.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    for announced in (True, False):
        with socket.create_connection((host, int(port)), timeout=10) as s:
            length = f"Content-Length: {200 * 1024 * 1024}\r\n" if announced else "Transfer-Encoding: chunked\r\n"
            s.sendall((f"POST /api/v0/files/ HTTP/1.1\r\nHost: {host}\r\n"
                       f"Authorization: {_headers(small_server)['Authorization']}\r\n"
                       f"Content-Type: multipart/form-data; boundary={boundary}\r\n{length}\r\n").encode())
            chunk = b"w" * 65536
            with_frame = (lambda b: f"{len(b):x}\r\n".encode() + b + b"\r\n") if not announced else (lambda b: b)
            try:
                s.sendall(with_frame(head))
                for _ in range(48):  # 3 MB
                    s.sendall(with_frame(chunk))
            except OSError:  # the server answered and closed before all of it was sent: what this test wants
                pass
            answer = s.recv(65536).decode(errors="replace")
        assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert not any(name.startswith(".upload-") for name in _stored(small_server))


def test_unreferenced_files_are_removed_after_the_grace_period(tmp_path: Path) -> None:
    data, home = tmp_path / "db", str(tmp_path / "home")
    env = {"MEDPERF_HOME": home}
    with start_server(data, env=env) as server:
        def upload(content: bytes) -> dict[str, str]:
            response = requests.post(server.api + "/files/", files={"file": ("f", content)},
                                     headers=_headers(server), timeout=10)
            assert response.status_code == 201, response.text
            body: dict[str, str] = response.json()
            return body

        used, params, orphan, fresh, again = (upload(b"used: config"), upload(b"p: 1"), upload(b"orphan"),
                                              upload(b"fresh"), upload(b"uploaded again"))
        registered = requests.post(server.api + "/mlcubes/", headers=_headers(server), timeout=10, json={
            "name": "gc", "container_config": CONFIG, "git_mlcube_url": used["url"], "mlcube_hash": used["sha256"],
            "parameters_hash": params["sha256"],
        })
        assert registered.status_code == 201, registered.text
    two_days_ago = time.time() - 48 * 3600
    for body in (used, params, orphan, again):
        os.utime(data / "files" / body["sha256"], (two_days_ago, two_days_ago))
    with start_server(data, env=env) as server:  # an upload of the same bytes starts its grace period again
        assert requests.post(server.api + "/files/", files={"file": ("f", b"uploaded again")},
                             headers=_headers(server), timeout=10).status_code == 201
    kept = {b["sha256"] for b in (used, params, fresh, again)}

    dry = run_medperf("server", "gc-files", "--data-dir", str(data), "--files-grace-hours", "24", "--dry-run",
                      home=home)
    assert dry.returncode == 0 and orphan["sha256"] in dry.stdout and "would remove 1 file" in dry.stdout, dry.stdout
    assert _names(data) == kept | {orphan["sha256"]}
    done = run_medperf("server", "gc-files", "--data-dir", str(data), "--files-grace-hours", "24", "-y", home=home)
    assert done.returncode == 0 and "removed 1 file" in done.stdout, done.stdout + done.stderr
    assert _names(data) == kept


def test_the_server_removes_unreferenced_files_at_start_up(tmp_path: Path) -> None:
    data, env = tmp_path / "db", {"MEDPERF_HOME": str(tmp_path / "home")}
    with start_server(data, env=env) as server:
        orphan = requests.post(server.api + "/files/", files={"file": ("f", b"orphan")}, headers=_headers(server),
                               timeout=10).json()["sha256"]
    old = time.time() - 200 * 3600  # past the default week
    os.utime(data / "files" / orphan, (old, old))
    with start_server(data, env=env, extra_args=("--files-grace-hours", "300")):
        assert _names(data) == {orphan}  # within the grace period set
    with start_server(data, env=env) as server:
        assert _names(data) == set()
        assert "removed 1 unreferenced file" in server.log()


def _names(data: Path) -> set[str]:
    return {p.name for p in (data / "files").iterdir()}
