"""The data never leaves the machine: a recording reverse proxy between the client and the real server keeps
every request of the whole tutorial; none may carry an image's or a label's bytes, a labels.csv line, the prepared
arrays, the predictions, or a local path or file name. And the containers ran without a network."""

from __future__ import annotations

import base64
import http.client
import json
import os
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
from _e2e import Tutorial
from test_data_owner_tutorial import run_tutorial

pytestmark = pytest.mark.docker

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@attrs.frozen
class Recorded:
    method: str
    target: str  # path and query
    headers: dict[str, str]
    body: bytes

    @property
    def everything(self) -> bytes:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.target}\n{head}\n\n".encode() + self.body


class RecordingProxy:
    """http://127.0.0.1:<port> forwarding every request to `upstream`, recording each one as received."""

    def __init__(self, upstream: str) -> None:
        self.records: list[Recorded] = []
        parts = urlsplit(upstream)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        lock = threading.Lock()
        records = self.records

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                assert "chunked" not in (self.headers.get("Transfer-Encoding") or ""), "chunked bodies not recorded"
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                with lock:
                    records.append(Recorded(self.command, self.path, headers, body))
                upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    headers["Host"] = f"{host}:{port}"
                    upstream_conn.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream_conn.getresponse()
                    data = response.read()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream_conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ContainerWatch:
    """Inspects every medperf container (label org.medperf.task) the moment Docker reports its creation.

    A network probe inside the container would prove nothing on an engine started with --bridge=none (as in CI
    sandboxes), and `docker events` shows no network attach for a container created with networking disabled,
    so the evidence is the container's own configuration, read while it exists (the runner removes it after the
    run, which takes far longer than one inspect)."""

    def __init__(self) -> None:
        import docker

        self.client = docker.from_env()
        self.seen: list[dict[str, Any]] = []
        self.missed: list[str] = []
        self.stream = self.client.events(
            decode=True, filters={"type": "container", "event": "create", "label": "org.medperf.task"}
        )
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        import docker

        try:
            for event in self.stream:
                cid = event.get("id") or event["Actor"]["ID"]
                try:
                    self.seen.append(self.client.api.inspect_container(cid))
                except docker.errors.NotFound:
                    self.missed.append(cid)
        except Exception:  # the stream is closed by stop()
            pass

    def stop(self) -> list[dict[str, Any]]:
        time.sleep(1.0)  # the last creation reaches us
        self.stream.close()
        self.thread.join(timeout=10)
        self.client.close()
        return self.seen


@pytest.fixture
def proxy() -> Iterator[list[RecordingProxy]]:
    made: list[RecordingProxy] = []
    yield made
    for p in made:
        p.stop()


def npy_buffer(content: bytes) -> bytes:
    """The raw array bytes of a version 1/2/3 .npy file (after its magic and header)."""
    assert content[:6] == b"\x93NUMPY", "not a .npy file"
    if content[6] == 1:
        (length,) = struct.unpack_from("<H", content, 8)
        start = 10 + length
    else:
        (length,) = struct.unpack_from("<I", content, 8)
        start = 12 + length
    assert b"'<f4'" in content[:start], content[:start]
    return content[start:]


def secrets_of(t: Tutorial) -> dict[str, bytes]:
    """Every byte string that must never reach the server, named for the failure message."""
    home = t.home / "profiles" / "local"
    prepared = home / "datasets" / "1"
    secrets: dict[str, bytes] = {}
    raw_files = sorted(p for p in t.raw.rglob("*") if p.is_file())
    assert len(raw_files) == 41  # 40 images and labels.csv
    for path in raw_files:
        content = path.read_bytes()
        secrets[f"bytes of {path.name}"] = content
        secrets[f"base64 of {path.name}"] = base64.b64encode(content)
        secrets[f"hex of {path.name}"] = content.hex().encode()
        secrets[f"name {path.name}"] = path.name.encode()
        middle = content[len(content) // 2 : len(content) // 2 + 24]
        if path.suffix == ".png":
            secrets[f"a slice of {path.name}"] = middle
    for line in (t.raw / "labels" / "labels.csv").read_text().splitlines():
        if line.strip():
            secrets[f"labels.csv line {line!r}"] = line.encode()
    npys = sorted((prepared / "data").glob("*.npy"))
    assert len(npys) == 40
    for path in npys:
        content = path.read_bytes()
        secrets[f"bytes of prepared {path.name}"] = content
        secrets[f"base64 of prepared {path.name}"] = base64.b64encode(content)
        buffer = npy_buffer(content)
        secrets[f"array buffer of {path.name}"] = buffer[len(buffer) // 2 : len(buffer) // 2 + 32]
        secrets[f"prepared name {path.name}"] = path.name.encode()
        secrets[f"case id {path.stem}"] = path.stem.encode()
        (pixel,) = struct.unpack_from("<f", buffer, 4 * (len(buffer) // 8))
        secrets[f"a pixel of {path.stem}"] = repr(pixel).encode()
    for line in (prepared / "labels" / "labels.csv").read_text().splitlines()[1:]:
        secrets[f"prepared labels line {line!r}"] = line.encode()
    for predictions in sorted((home / "executions").glob("*/predictions")):
        for path in predictions.rglob("*"):
            if path.is_file():
                secrets[f"predictions {path}"] = path.read_bytes()
                for line in path.read_text(errors="replace").splitlines()[1:]:
                    if line.strip():
                        secrets[f"prediction line {line!r} of {path.parent.parent.name}"] = line.encode()
    for folder in (t.raw / "images", t.raw / "labels", prepared / "data", prepared / "labels", t.work, t.home):
        secrets[f"path {folder}"] = str(folder).encode()
        secrets[f"path {folder} (JSON-escaped)"] = json.dumps(str(folder))[1:-1].encode()
    secrets["the raw data folder's name"] = b"sample_raw_data"
    secrets["the workspace's name"] = b"medperf_tutorial"
    return secrets


DATASET_CREATE_FIELDS = {
    "name",
    "description",
    "location",
    "input_data_hash",
    "generated_uid",
    "data_preparation_mlcube",
    "split_seed",
    "state",
    "submitted_as_prepared",
    "is_valid",
    "generated_metadata",
    "user_metadata",
    "report",
}
DATASET_UPDATE_FIELDS = {"report", "input_data_hash", "generated_uid", "generated_metadata", "state"}
STATISTICS_FIELDS = {"n_images", "class_counts", "image_size", "intensity"}


def leaks(records: list[Recorded], secrets: dict[str, bytes]) -> list[str]:
    """'<request>: <secret names>' for every request carrying one of the secrets (method, target, headers, body)."""
    found = []
    for record in records:
        sent = record.everything
        leaked = [name for name, secret in secrets.items() if secret and secret in sent]
        if leaked:
            found.append(f"{record.method} {record.target}: {', '.join(leaked[:5])}")
    return found


@pytest.mark.parametrize("where", ["body", "target", "header"])
def test_the_leak_check_sees_a_leak(where: str) -> None:
    """The check is not vacuous: a labels line or a file's base64 anywhere in a request is found."""
    secret = {
        "labels.csv line 'cxr_0007.png,pneumonia'": b"cxr_0007.png,pneumonia",
        "base64 of cxr_0001.png": base64.b64encode(b"\x89PNG fake image bytes"),
    }
    body = json.dumps({"metadata": {"note": "cxr_0007.png,pneumonia"}}).encode() if where == "body" else b"{}"
    target = "/api/v0/datasets/?q=" + secret["base64 of cxr_0001.png"].decode() if where == "target" else "/"
    headers = {"X-Debug": "cxr_0007.png,pneumonia"} if where == "header" else {}
    assert leaks([Recorded("POST", target, headers, body)], secret)
    assert not leaks([Recorded("POST", "/api/v0/datasets/", {}, b'{"name": "x"}')], secret)


def check_writes(records: list[Recorded]) -> None:
    """Exactly the writes the tutorial needs, each with only the expected fields."""
    writes = [(r.method, r.target.rstrip("/")) for r in records if r.method != "GET"]
    assert writes == [
        ("POST", "/api/v0/auth/local/token"),  # testdo logs in
        ("POST", "/api/v0/datasets"),  # submit
        ("PUT", "/api/v0/datasets/1"),  # prepare: report "started"
        ("PUT", "/api/v0/datasets/1"),  # prepare: report "finished"
        ("PUT", "/api/v0/datasets/1"),  # set_operational
        ("POST", "/api/v0/datasets/benchmarks"),  # associate
        ("POST", "/api/v0/auth/local/token"),  # testbo logs in
        ("PUT", "/api/v0/datasets/1/benchmarks/1"),  # testbo approves
        ("POST", "/api/v0/auth/local/token"),  # testdo logs in again
        ("POST", "/api/v0/results"),  # result submit
    ], writes
    bodies = [json.loads(r.body) for r in records if r.method != "GET"]
    login_bo, created, started, finished, operational, association, _, approval, _, result = bodies
    assert set(login_bo) == {"email"}
    assert set(created) <= DATASET_CREATE_FIELDS, set(created) - DATASET_CREATE_FIELDS
    assert created["generated_metadata"] == {} and created["state"] == "DEVELOPMENT"
    assert started == {"report": {"execution_status": "started"}}
    assert finished == {"report": {"execution_status": "finished"}}
    assert set(operational) <= DATASET_UPDATE_FIELDS and operational["state"] == "OPERATION"
    assert set(operational["generated_metadata"]) == STATISTICS_FIELDS  # aggregates only, no per-case values
    assert set(association) <= {"dataset", "benchmark", "approval_status", "metadata"}
    assert set(association["metadata"]) == {"test_result"}
    assert approval == {"approval_status": "APPROVED"}
    assert set(result) == {"name", "benchmark", "model", "dataset", "results", "metadata", "approval_status"}
    assert result["name"] == "b1m4d1" and set(result["results"]) == {"accuracy", "auc", "n_cases", "per_class"}


def check_no_network(inspected: list[dict[str, Any]]) -> int:
    """Every medperf container was created without networking, unprivileged, capabilities dropped."""
    for info in inspected:
        config, host = info["Config"], info["HostConfig"]
        name = f"{config['Labels'].get('org.medperf.task')} ({config['Image'][:19]})"
        assert config.get("NetworkDisabled") is True, name
        assert host["NetworkMode"] == "none", (name, host["NetworkMode"])
        assert not info["NetworkSettings"].get("Networks") or set(info["NetworkSettings"]["Networks"]) == {"none"}
        assert host.get("Privileged") is False and host.get("CapDrop") == ["ALL"], name
        assert "no-new-privileges" in (host.get("SecurityOpt") or []), name
        assert config["User"] == f"{os.getuid()}:{os.getgid()}", name  # the caller's uid, not the image's
    return len(inspected)


def test_nothing_of_the_data_reaches_the_server(tutorial_factory: Any, proxy: list[RecordingProxy]) -> None:
    def through_proxy(server: Any) -> str:
        proxy.append(RecordingProxy(server.url))
        return proxy[0].url

    t: Tutorial = tutorial_factory(server_url=through_proxy)
    recorder = proxy[0]
    recorder.records.clear()  # from here on: exactly the tutorial's commands
    t.role = ""
    watch = ContainerWatch()
    try:
        run_tutorial(t)
    finally:
        inspected = watch.stop()
    records = list(recorder.records)
    assert len(records) > 20 and all(r.target.startswith("/api/v0/") for r in records), records[:3]

    assert not leaks(records, secrets_of(t))
    check_writes(records)

    # the containers: prepare, sanity_check, statistics, reference model infer + evaluate, model 4 infer + evaluate
    tasks = sorted(i["Config"]["Labels"]["org.medperf.task"] for i in inspected)
    assert {"prepare", "sanity_check", "statistics", "infer", "evaluate"} <= set(tasks), (tasks, watch.missed)
    assert check_no_network(inspected) >= 7
