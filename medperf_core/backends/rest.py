"""The `rest` backend: MedPerf API v0 over HTTP(S) with timeouts, retries of idempotent calls and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from medperf_core.backends.base import Json
from medperf_core.backends.calls import EndpointMethods
from medperf_core.endpoints import Call, Endpoint, endpoint
from medperf_core.errors import (
    AuthenticationError,
    ConflictError,
    MedperfError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TooLargeError,
    UserError,
)
from medperf_core.profiles import Profile

PAGE_SIZE = 100
RETRIES = 3
BACKOFF_S = 0.25
# Retried statuses: a proxy or an overloaded server, not an application error (500 is not retried: it would fail again).
RETRY_STATUSES = frozenset({502, 503, 504})
# Idempotent methods only: repeating a POST could create a second entity.
RETRY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_ERRORS: dict[int, type[MedperfError]] = {
    400: UserError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
}
_HINTS = {401: "log in with: medperf auth login -e EMAIL"}


def _looks_like_html(response: requests.Response) -> bool:
    kind = response.headers.get("Content-Type", "")
    return "html" in kind or (response.text or "").lstrip()[:1] == "<"


def server_message(response: requests.Response) -> str:
    """The server's error as one line: `detail`, or `field: message` pairs (never a page of HTML)."""
    if _looks_like_html(response):
        return f"an HTML page ({response.status_code} {response.reason}), not a medperf server's answer"
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip().splitlines()[0][:300] if response.text else ""
    if isinstance(body, dict):
        if "detail" in body and len(body) == 1:
            return str(body["detail"])
        parts = []
        for key, value in body.items():
            messages = value if isinstance(value, list) else [value]
            parts += [m if str(m).startswith(f"{key}:") else f"{key}: {m}" for m in map(str, messages)]
        return "; ".join(parts)
    return str(body)[:300]


def speaks_tls(url: str, timeout: float = 3.0) -> bool:
    """Whether the host:port of an http:// URL completes a TLS handshake (an HTTPS server asked in plain HTTP)."""
    import socket
    import ssl
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=parts.hostname):
            return True
    except (OSError, ssl.SSLError):
        return False


def retry_policy(retries: int = RETRIES, backoff_s: float = BACKOFF_S) -> Retry:
    """urllib3's retries for the session: connection errors, read errors and 502/503/504 of idempotent methods.

    Waits `backoff_s * 2**(n-1)` between attempts, or what the server's `Retry-After` asks. A refused connection
    sent nothing, so urllib3 retries it for every method; a read error or a 5xx answer is retried only for
    `RETRY_METHODS`. After the last attempt the server's answer is returned, so its message reaches the user.
    """
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,  # TLS and protocol errors would fail the same way again
        redirect=False,
        allowed_methods=RETRY_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_s,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class RestBackend(EndpointMethods):
    """One profile's server over HTTP. Idempotent calls are retried by urllib3 (see `retry_policy`); POST is not.
    Every row's method sends the row's method to its path (backends/calls.py)."""

    def __init__(self, profile: Profile, *, retries: int = RETRIES, backoff_s: float = BACKOFF_S) -> None:
        self.profile = profile
        self.base = profile.server.rstrip("/") + "/api/v0"
        self.timeout = profile.timeout or 30.0
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry_policy(retries, backoff_s))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Passed on every request: requests lets REQUESTS_CA_BUNDLE override a session-level `verify`.
        self.verify: str | bool = profile.certificate or True
        if profile.token:
            self.session.headers["Authorization"] = f"Bearer {profile.token}"

    # --- transport ------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Json | None = None, key: str | None = None, **kw: Any) -> Any:
        url = path if path.startswith(("http://", "https://")) else self.base + path
        headers = {"Idempotency-Key": key} if key else None
        try:
            response = self.session.request(
                method, url, json=body, timeout=self.timeout, verify=self.verify, headers=headers, **kw
            )
        except requests.exceptions.SSLError as e:
            raise ServerError(
                f"TLS error talking to {self.profile.server}: {e}",
                "set the server's certificate: medperf profile set --certificate FILE",
            ) from e
        except (requests.ConnectionError, requests.Timeout) as e:
            if self.profile.server.startswith("http://") and speaks_tls(self.profile.server):
                https = "https://" + self.profile.server.removeprefix("http://")
                raise ServerError(
                    f"the server at {self.profile.server} speaks HTTPS (TLS), not plain HTTP",
                    f"medperf profile set --server {https} (and --certificate FILE for a self-signed one)",
                ) from e
            raise ServerError(
                f"cannot reach the server at {self.profile.server} ({type(e).__name__})",
                "is it running? see: medperf profile view",
            ) from e
        return self._result(method, url, response)

    def _result(self, method: str, url: str, response: requests.Response) -> Any:
        expected = 201 if method == "POST" else 200
        where = f"{method} {url.removeprefix(self.base)}"
        if response.status_code == expected:
            try:
                return response.json()
            except ValueError:
                raise ServerError(
                    f"{self.profile.server} is not a medperf server: {where} answered "
                    f"{response.headers.get('Content-Type') or 'something'} instead of JSON",
                    "check the profile's server URL: medperf profile view",
                ) from None
        message = server_message(response)
        if _looks_like_html(response):
            raise ServerError(f"{self.profile.server} is not a medperf server: {where} answered {message}",
                              "check the profile's server URL: medperf profile view")
        error = _ERRORS.get(response.status_code)
        if error is not None:
            hint = _HINTS.get(response.status_code)
            if hint and hint in message:  # the server already said how to fix it
                hint = None
            raise error(f"the server refused {where}: {message}", hint)
        raise ServerError(f"the server answered {response.status_code} to {where}: {message}")

    def get(self, path: str) -> Json:
        result: Json = self.request("GET", path)
        return result

    def get_all(self, path: str) -> list[Json]:
        """Every row of a paginated list, following `next` (an older MedPerf server answers some lists whole, as a
        plain JSON list)."""
        url: str | None = f"{path}?limit={PAGE_SIZE}&offset=0"
        rows: list[Json] = []
        while url:
            page = self.request("GET", url)
            if isinstance(page, list):
                return rows + page
            rows += page["results"]
            url = page.get("next")
        return rows

    def post(self, path: str, body: Json, key: str | None = None) -> Json:
        result: Json = self.request("POST", path, body, key)
        return result

    def put(self, path: str, body: Json, key: str | None = None) -> Json:
        result: Json = self.request("PUT", path, body, key)
        return result

    def call(self, row: Endpoint, call: Call) -> Any:
        path = row.url(call.ids)
        if row.paged:
            return self.get_all(path)
        if row.method == "GET":
            return self.get(path)
        return self.request(row.method, path, call.body, call.key)

    # --- the rows without a service call, and MedPerf's association answers -------------------------------

    def login(self, email: str) -> str:
        try:
            return str(self.post(endpoint("login").path, {"email": email})["token"])
        except NotFoundError as e:
            raise AuthenticationError(
                f"{self.profile.server} does not hand out tokens (not in local auth mode)",
                "get a token from your identity provider: medperf auth login --token T",
            ) from e

    def upload_file(self, path: Path) -> Json:
        try:
            handle = path.open("rb")
        except OSError as e:
            raise UserError(f"cannot read {path}: {e.strerror}", "check the path") from e
        with handle:
            result: Json = self.request("POST", endpoint("upload_file").path, files={"file": (path.name, handle)})
        return result

    def get_dataset_association(self, dataset_id: int, benchmark_id: int) -> Json:
        row = endpoint("get_dataset_association")
        return self._association(row.url((dataset_id, benchmark_id)), "dataset", dataset_id, benchmark_id)

    def get_model_association(self, container_id: int, benchmark_id: int) -> Json:
        row = endpoint("get_model_association")
        return self._association(row.url((container_id, benchmark_id)), "model_mlcube", container_id, benchmark_id)

    def _association(self, path: str, subject: str, subject_id: int, benchmark_id: int) -> Json:
        """One association row. Our server answers the row; MedPerf's server answers a list of every request of
        the pair, each without the ids (`approval_status`, `initiated_by`, the times): the latest one counts."""
        found = self.request("GET", path)
        rows = [r for r in (found if isinstance(found, list) else [found]) if isinstance(r, dict)]
        if not rows:
            raise NotFoundError(f"no association of {subject} {subject_id} with benchmark {benchmark_id}")
        latest = max(rows, key=lambda r: str(r.get("created_at") or ""))
        return {subject: subject_id, "benchmark": benchmark_id, **latest}
