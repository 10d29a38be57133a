"""The requests MedPerf's client (the version of the seed tutorial) sends, replayed with plain `requests`.

Facts read from its `cli/medperf/comms/rest.py`: every call carries `Authorization: Bearer <token>` and verifies TLS
against the profile's certificate; a GET must answer exactly 200, a POST exactly 201, a PUT exactly 200 (anything else
is an error); a list is read by asking `?limit=32&offset=N`, adding the rows it got to `offset` until `next` is null.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from _medperf_shapes import page

PAGE_SIZE = 32  # MedPerf's client's default page size
Check = Callable[[dict[str, Any]], list[str]]


class MedPerfWire:
    """One MedPerf user talking to a server at `url` (`https://host:port`) with a bearer token."""

    def __init__(self, url: str, token: str, certificate: Path) -> None:
        self.api = f"{url}/api/v0"
        self.token = token
        self.certificate = certificate
        self.calls: list[tuple[str, str, int]] = []

    def _request(self, method: str, path: str, expected: int, body: Any = None) -> Any:
        with requests.request(
            method,
            self.api + path,
            json=body,
            headers={"Authorization": f"Bearer {self.token}", "Connection": "close"},
            verify=str(self.certificate),
            allow_redirects=False,  # the server must answer both path forms itself
            timeout=30,
        ) as response:  # closed before any assertion (a failing test must not hold the connection open)
            status, content_type, text = response.status_code, response.headers.get("content-type", ""), response.text
        self.calls.append((method, path, status))
        assert status == expected, f"{method} {path}: {status} {text[:500]}"
        assert content_type.startswith("application/json"), f"{method} {path}: {content_type}"
        return json.loads(text)

    def get(self, path: str, check: Check | None = None) -> Any:
        body = self._request("GET", path, 200)
        if check is not None:
            assert check(body) == [], f"GET {path}: MedPerf's client refuses {check(body)}"
        return body

    def post(self, path: str, body: dict[str, Any], check: Check | None = None) -> Any:
        answer = self._request("POST", path, 201, body)
        if check is not None:
            assert check(answer) == [], f"POST {path}: MedPerf's client refuses {check(answer)}"
        return answer

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("PUT", path, 200, body)

    def get_list(self, path: str, check: Check | None = None, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """Every row of a list, read page by page as MedPerf's client does; each row checked with `check`."""
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = self._request("GET", f"{path}?limit={page_size}&offset={offset}", 200)
            assert page(body) == [], f"GET {path}: {page(body)}"
            assert len(body["results"]) <= page_size, f"GET {path}: more rows than the limit asked"
            rows += body["results"]
            offset += len(body["results"])
            if body["next"] is None:
                break
            assert body["results"], f"GET {path}: an empty page with a `next` link would loop forever"
        if check is not None:
            refused = [problem for row in rows for problem in check(row)]
            assert refused == [], f"GET {path}: MedPerf's client refuses {refused}"
        return rows
