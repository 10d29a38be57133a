"""A stand-in for MedPerf's server: its API v0 with only MedPerf's fields, over HTTPS, in a thread of the test.

Every answer is cut down to the fields MedPerf's server (the version of the seed tutorial) returns, listed below, so
a client that needs a field only our server adds fails against it. Lists are paged as MedPerf pages them (`limit`,
`offset`, 32 by default, an absolute `next` link). Container files are served as plain files under `/files/<sha256>`
(MedPerf keeps them wherever their owner published them); the API never serves an inline config.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

Row = dict[str, Any]

# The fields of MedPerf's server's answers (its serializers), nothing else.
FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("id", "username", "email", "first_name", "last_name"),
    "benchmark": (
        "id", "name", "description", "docs_url", "owner", "demo_dataset_tarball_url", "demo_dataset_tarball_hash",
        "demo_dataset_generated_uid", "data_preparation_mlcube", "reference_model_mlcube", "data_evaluator_mlcube",
        "metadata", "state", "is_valid", "is_active", "approval_status", "user_metadata", "approved_at",
        "created_at", "modified_at",
    ),
    "mlcube": (
        "id", "name", "git_mlcube_url", "mlcube_hash", "git_parameters_url", "parameters_hash", "image_tarball_url",
        "image_tarball_hash", "image_hash", "additional_files_tarball_url", "additional_files_tarball_hash", "owner",
        "state", "is_valid", "metadata", "user_metadata", "created_at", "modified_at",
    ),
    "dataset": (
        "id", "name", "description", "location", "owner", "input_data_hash", "generated_uid", "split_seed",
        "data_preparation_mlcube", "is_valid", "state", "generated_metadata", "user_metadata", "report",
        "submitted_as_prepared", "created_at", "modified_at",
    ),
    "result": (
        "id", "name", "owner", "benchmark", "model", "dataset", "results", "metadata", "user_metadata",
        "approval_status", "is_valid", "approved_at", "created_at", "modified_at",
    ),
    "dataset_association": (
        "id", "dataset", "benchmark", "initiated_by", "metadata", "approval_status", "approved_at", "created_at",
        "modified_at",
    ),
    "model_association": (
        "id", "model_mlcube", "benchmark", "initiated_by", "metadata", "approval_status", "approved_at",
        "created_at", "modified_at",
    ),
    # the rows of /benchmarks/{id}/models and /benchmarks/{id}/datasets
    "benchmark_model": ("model_mlcube", "approval_status", "created_at"),
    "benchmark_dataset": ("dataset", "approval_status", "created_at"),
    # GET /datasets/{id}/benchmarks/{bid}/ answers a list of these (every request of that pair), PUT one
    "dataset_approval": ("approval_status", "initiated_by", "approved_at", "created_at", "modified_at"),
}
DEFAULTS: Row = {
    "description": "", "location": "", "docs_url": "", "metadata": {}, "user_metadata": {}, "report": {},
    "generated_metadata": {}, "state": "DEVELOPMENT", "is_valid": True, "is_active": True, "split_seed": 0,
    "submitted_as_prepared": False, "approval_status": "PENDING", "approved_at": None, "results": {},
    "demo_dataset_generated_uid": "", "image_tarball_url": "", "image_tarball_hash": "", "initiated_by": None,
}
PAGE = 32


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def shaped(kind: str, row: Row) -> Row:
    """The row as MedPerf's server answers it: its fields only, absent ones at MedPerf's defaults."""
    return {name: row.get(name, DEFAULTS.get(name, "")) for name in FIELDS[kind]}


class StandIn:
    """The entities of a MedPerf server and the requests it was sent; `start(cert, key)` serves them."""

    def __init__(self) -> None:
        self.tables: dict[str, list[Row]] = {kind: [] for kind in FIELDS}
        self.files: dict[str, Path] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.me: Row = {}
        self.unpaged: set[str] = set()  # API paths (`/me/results/`) answered as a plain list, as older MedPerf did
        self.url = ""
        self.certificate: Path | None = None  # what a client trusts: the certificate `start` serves
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # --- content ---

    def add(self, kind: str, **fields: Any) -> Row:
        table = self.tables[kind]
        row = {**fields, "id": len(table) + 1, "created_at": now(), "modified_at": now()}
        table.append(row)
        return row

    def publish(self, path: Path) -> tuple[str, str]:
        """Serve a file; its URL and sha256."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.files[digest] = path
        return f"{self.url}/files/{digest}", digest

    def find(self, kind: str, **match: Any) -> list[Row]:
        return [r for r in self.tables[kind] if all(r.get(k) == v for k, v in match.items())]

    # --- serving ---

    def start(self, certificate: Path, key: Path) -> None:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._httpd.server_address[1]}"
        self.certificate = certificate
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # --- the API (MedPerf's paths; both path forms) ---

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        path = path.removeprefix("/api/v0").rstrip("/") + "/"
        for pattern_method, pattern, action in self._routes():
            match = re.fullmatch(pattern, path)
            if match and pattern_method == method:
                return action(query, body, *(int(g) for g in match.groups()))
        return 404, {"detail": "Not found."}

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any]]]]:
        mine = lambda kind: lambda q, b: self._list(kind, q, owner=self.me["id"])  # noqa: E731
        return [
            ("GET", r"/me/", lambda q, b: (200, shaped("user", self.me))),
            ("GET", r"/benchmarks/", lambda q, b: self._list("benchmark", q)),
            ("GET", r"/benchmarks/(\d+)/", lambda q, b, i: self._get("benchmark", i)),
            ("GET", r"/benchmarks/(\d+)/models/", self._benchmark_models),
            ("GET", r"/benchmarks/(\d+)/datasets/",
             lambda q, b, i: self._list("dataset_association", q, as_kind="benchmark_dataset", benchmark=i)),
            ("GET", r"/mlcubes/", lambda q, b: self._list("mlcube", q)),
            ("GET", r"/mlcubes/(\d+)/", lambda q, b, i: self._get("mlcube", i)),
            ("GET", r"/datasets/", lambda q, b: self._list("dataset", q)),
            ("GET", r"/datasets/(\d+)/", lambda q, b, i: self._get("dataset", i)),
            ("POST", r"/datasets/", lambda q, b: self._create("dataset", b, owner=self.me["id"])),
            ("PUT", r"/datasets/(\d+)/", lambda q, b, i: self._update("dataset", i, b)),
            ("POST", r"/datasets/benchmarks/", lambda q, b: self._create(
                "dataset_association", b, initiated_by=self.me["id"], approval_status="PENDING")),
            ("GET", r"/datasets/(\d+)/benchmarks/(\d+)/", self._dataset_association),
            ("GET", r"/results/", lambda q, b: self._list("result", q)),
            ("GET", r"/results/(\d+)/", lambda q, b, i: self._get("result", i)),
            ("POST", r"/results/",
             lambda q, b: self._create("result", b, owner=self.me["id"], approval_status="PENDING")),
            ("GET", r"/me/benchmarks/", mine("benchmark")),
            ("GET", r"/me/mlcubes/", mine("mlcube")),
            ("GET", r"/me/datasets/", mine("dataset")),
            ("GET", r"/me/results/", mine("result")),
            ("GET", r"/me/datasets/associations/", lambda q, b: self._my_dataset_associations(q)),
            ("GET", r"/me/mlcubes/associations/", lambda q, b: self._my_model_associations(q)),
        ]

    def _benchmark_models(self, query: dict[str, str], body: Any, benchmark: int) -> tuple[int, Any]:
        """MedPerf lets only admins, the benchmark's owner and the owner of a dataset whose latest association with
        the benchmark is approved read its models (server/benchmark/views.py, BenchmarkModelList:
        `IsAdmin | IsBenchmarkOwner | IsAssociatedDatasetOwner`, server/benchmark/permissions.py)."""
        owns_benchmark = any(b["owner"] == self.me["id"] for b in self.find("benchmark", id=benchmark))
        datasets = {d["id"] for d in self.find("dataset", owner=self.me["id"])}
        latest: dict[int, str] = {}
        for row in sorted(self.find("dataset_association", benchmark=benchmark), key=lambda r: r["created_at"]):
            latest[row["dataset"]] = row["approval_status"]
        approved_dataset = any(latest.get(d) == "APPROVED" for d in datasets)
        if not (self.me.get("is_superuser") or owns_benchmark or approved_dataset):
            return 403, {"detail": "You do not have permission to perform this action."}
        return self._list("model_association", query, as_kind="benchmark_model", benchmark=benchmark)

    def _get(self, kind: str, entity_id: int) -> tuple[int, Any]:
        found = self.find(kind, id=entity_id)
        return (200, shaped(kind, found[0])) if found else (404, {"detail": "Not found."})

    def _list(self, kind: str, query: dict[str, str], as_kind: str = "", **match: Any) -> tuple[int, Any]:
        rows = [shaped(as_kind or kind, r) for r in self.find(kind, **match)]
        limit, offset = int(query.get("limit", PAGE)), int(query.get("offset", 0))
        if self._path.removeprefix("/api/v0").rstrip("/") + "/" in self.unpaged:
            return 200, rows
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return 200, {
            "count": len(rows),
            "next": f"{self.url}{self._path}?limit={limit}&offset={offset + limit}" if more else None,
            "previous": None,
            "results": page,
        }

    # MedPerf's server lists the associations of the caller's own datasets (models) and of the caller's own
    # benchmarks: `Q(dataset__owner__id=pk) | Q(benchmark__owner__id=pk)` in server/utils/views.py,
    # DatasetAssociationList; `Q(model_mlcube__owner__id=pk) | Q(benchmark__owner__id=pk)` in MlCubeAssociationList
    # (mlcommons/medperf before commit 72725fac, which renamed it ModelAssociationList over `model__owner`).
    def _my_associations(self, kind: str, entity_kind: str, column: str) -> tuple[int, Any]:
        mine = {e["id"] for e in self.find(entity_kind, owner=self.me["id"])}
        benchmarks = {b["id"] for b in self.find("benchmark", owner=self.me["id"])}
        rows = [r for r in self.tables[kind] if r[column] in mine or r["benchmark"] in benchmarks]
        return 200, {"count": len(rows), "next": None, "previous": None, "results": [shaped(kind, r) for r in rows]}

    def _my_dataset_associations(self, query: dict[str, str]) -> tuple[int, Any]:
        return self._my_associations("dataset_association", "dataset", "dataset")

    def _my_model_associations(self, query: dict[str, str]) -> tuple[int, Any]:
        return self._my_associations("model_association", "mlcube", "model_mlcube")

    def _dataset_association(self, query: dict[str, str], body: Any, dataset: int, benchmark: int) -> tuple[int, Any]:
        found = self.find("dataset_association", dataset=dataset, benchmark=benchmark)
        return 200, [shaped("dataset_approval", r) for r in found]  # a list, even of one request (or none)

    def _create(self, kind: str, body: Any, **server_side: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"detail": "a JSON object is expected"}
        writable = {k: v for k, v in body.items() if k in FIELDS[kind] and k not in ("id", "owner", "created_at",
                                                                                      "modified_at", "approved_at")}
        return 201, shaped(kind, self.add(kind, **{**writable, **server_side}))

    def _update(self, kind: str, entity_id: int, body: Any) -> tuple[int, Any]:
        found = self.find(kind, id=entity_id)
        if not found:
            return 404, {"detail": "Not found."}
        row = found[0]
        row.update({k: v for k, v in body.items() if k in FIELDS[kind] and k not in ("id", "owner", "created_at")})
        row["modified_at"] = now()
        return 200, shaped(kind, row)

    _path = ""  # the path of the request being answered (lists build their `next` link from it)


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        if method == "GET" and parts.path.startswith("/files/"):
            self._file(parts.path.removeprefix("/files/"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            status, body = 401, {"detail": "Authentication credentials were not provided."}
        else:
            with self.standin.lock:
                self.standin._path = parts.path
                status, body = self.standin.route(method, parts.path, query, json.loads(raw) if raw else None)
        self.standin.requests.append((method, self.path, status))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _file(self, digest: str) -> None:
        path = self.standin.files.get(digest)
        data = path.read_bytes() if path else b"not found"
        self.standin.requests.append(("GET", self.path, 200 if path else 404))
        self.send_response(200 if path else 404)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def log_message(self, *args: object) -> None:
        pass
