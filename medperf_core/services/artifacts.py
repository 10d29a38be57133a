"""The files a benchmark or container owner registers: a local path or an http(s) URL, hashed, checked, kept.

A local file is uploaded to the server's file store when it is registered; a URL is registered as it is. Either way
its sha256 is computed here, shown before anything is sent, and compared with the hash the user gave (if any).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import attrs

from medperf_core.atomic import atomic_write_bytes
from medperf_core.errors import IntegrityError, UserError
from medperf_core.services.hashing import file_hash

FETCH_TIMEOUT_S = 60.0


@attrs.frozen
class Artifact:
    """One input file: where it came from, a local copy to read, and its sha256."""

    what: str  # e.g. "container config", for messages
    source: str  # what the user gave: a path or a URL
    path: Path  # a local file with the bytes
    sha256: str

    @property
    def is_url(self) -> bool:
        return is_url(self.source)


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def fetch_url(url: str, dest: Path, what: str) -> Path:
    """Download `url` into `dest` (published with one rename); one clear error when it cannot be fetched."""
    import requests

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with requests.get(url, stream=True, timeout=FETCH_TIMEOUT_S) as response:
            if response.status_code != 200:
                raise UserError(f"cannot fetch the {what} from {url}: the server answered {response.status_code}",
                                "check the URL")
            with atomic_write_bytes(dest, prefix=".download-") as out:
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
    except requests.RequestException as e:
        raise UserError(f"cannot fetch the {what} from {url} ({type(e).__name__})",
                        "check the URL and that its host is reachable") from e
    return dest


def local_file(source: str, what: str) -> Path:
    """A local path (or file:// URL) that must be a readable file."""
    parsed = urlparse(source)
    path = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(source).expanduser()
    if not path.exists():
        raise UserError(f"the {what} {source} does not exist", "check the path (or give an http(s) URL)")
    if not path.is_file():
        raise UserError(f"the {what} {source} is not a file", "give the file itself")
    return path


def check_hash(what: str, source: str, actual: str, expected: str | None) -> None:
    if expected and expected.strip().lower().removeprefix("sha256:") != actual:
        raise IntegrityError(f"the {what} {source} has sha256 {actual}, not the expected {expected}",
                             "check the file, or drop the hash option to accept the file as it is")


def resolve(source: str, what: str, cache: Path, expected_hash: str | None = None) -> Artifact:
    """The input at `source` as a local file with its sha256, checked against `expected_hash` when given."""
    if is_url(source):
        path = fetch_url(source, cache / "downloads" / (file_name(source) or "download"), what)
        sha = file_hash(path)
        final = cache / "downloads" / sha[:16] / (file_name(source) or "download")
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, final)
        path = final
    else:
        path = local_file(source, what)
    sha = file_hash(path)
    check_hash(what, source, sha, expected_hash)
    return Artifact(what=what, source=source, path=path, sha256=sha)


def file_name(url: str) -> str:
    return Path(urlparse(url).path).name
