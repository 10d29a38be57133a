"""Stored files: `POST /files/` (authenticated, content-addressed, idempotent) and `GET` of the URL it answers,
through a real server and through both backends."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from medperf_core.backends import get_backend
from medperf_core.backends.local import LOCAL_TOKEN
from medperf_core.errors import AuthenticationError
from medperf_core.profiles import Profile
from medperf_core.testing.server import ServerProcess, start_server

PUBLIC = "https://files.medperf.test:8443"


@pytest.fixture(scope="module")
def files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("files-server")
    server = start_server(data / "db", env={"MEDPERF_HOME": str(data / "home")})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("files-public")
    server = start_server(
        data / "db", extra_args=("--public-url", PUBLIC + "/"), env={"MEDPERF_HOME": str(data / "home")}
    )
    yield server
    server.stop()


def _upload(server: ServerProcess, content: bytes, token: str | None = "do") -> requests.Response:
    headers = {"Authorization": f"Bearer {server.token('testdo@example.com')}"} if token else {}
    return requests.post(
        server.api + "/files/", files={"file": ("config.yaml", content)}, headers=headers, timeout=10
    )


def test_upload_answers_201_with_url_hash_and_size_and_get_serves_the_bytes(files_server: ServerProcess) -> None:
    content = b"tasks:\n  infer: {}\n"
    response = _upload(files_server, content)
    assert response.status_code == 201, response.text
    body = response.json()
    sha = hashlib.sha256(content).hexdigest()
    assert body == {"url": f"{files_server.api}/files/{sha}", "sha256": sha, "size": len(content)}
    for url in (body["url"], body["url"] + "/"):
        got = requests.get(url, timeout=10)  # no token: files are public, named by their hash
        assert got.status_code == 200 and got.content == content


def test_upload_is_idempotent_and_content_addressed(files_server: ServerProcess) -> None:
    first, again, other = (_upload(files_server, c).json() for c in (b"same", b"same", b"other"))
    assert first == again
    assert other["url"] != first["url"]
    stored = sorted(p.name for p in (files_server.data_dir / "files").iterdir())
    assert first["sha256"] in stored and other["sha256"] in stored and not any(n.startswith(".") for n in stored)


def test_upload_needs_a_token_and_a_file(files_server: ServerProcess) -> None:
    assert _upload(files_server, b"x", token=None).status_code == 401
    token = files_server.token("testdo@example.com")
    missing = requests.post(files_server.api + "/files/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert missing.status_code == 400 and "file" in missing.text


def test_unknown_and_malformed_names_are_404(files_server: ServerProcess) -> None:
    assert requests.get(files_server.api + "/files/" + "0" * 64, timeout=10).status_code == 404
    assert requests.get(files_server.api + "/files/..%2Fevents.db", timeout=10).status_code == 404
    assert requests.get(files_server.api + "/files/local_auth_secret", timeout=10).status_code == 404


def test_urls_use_the_public_url_setting(public_server: ServerProcess) -> None:
    body = _upload(public_server, b"demo").json()
    assert body["url"] == f"{PUBLIC}/api/v0/files/{body['sha256']}"
    served = requests.get(f"{public_server.api}/files/{body['sha256']}", timeout=10)
    assert served.content == b"demo"


def test_a_bad_public_url_is_refused_before_start(tmp_path: Path) -> None:
    import subprocess

    from medperf_core.testing.server import medperf_command

    done = subprocess.run(
        [*medperf_command(), "server", "start", "--data-dir", str(tmp_path), "--public-url", "files.test"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and "--public-url 'files.test' is not an http(s) base URL" in done.stderr
    assert not (tmp_path / "events.db").exists()


def _backends(server: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    email = "testmo@example.com"
    return {
        "rest": get_backend(Profile(name="r", server=server.url, email=email, token=server.token(email))),
        "local": get_backend(
            Profile(name="l", backend="local", local_db=str(tmp_path / "local"), email=email, token=LOCAL_TOKEN)
        ),
    }


@pytest.mark.parametrize("kind", ["rest", "local"])
def test_backends_upload_and_the_url_gives_the_bytes_back(
    kind: str, files_server: ServerProcess, tmp_path: Path
) -> None:
    source = tmp_path / "additional_files.tar.gz"
    source.write_bytes(bytes(range(256)) * 100)
    backend = _backends(files_server, tmp_path)[kind]
    body = backend.upload_file(source)
    assert body["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert body["size"] == source.stat().st_size
    assert backend.upload_file(source) == body
    if kind == "rest":
        assert requests.get(body["url"], timeout=10).content == source.read_bytes()
    else:
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        assert body["url"].startswith("file://")
        assert Path(url2pathname(urlparse(body["url"]).path)).read_bytes() == source.read_bytes()


def test_local_backend_upload_needs_a_login(tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    backend = get_backend(Profile(name="l", backend="local", local_db=str(tmp_path / "db")))
    with pytest.raises(AuthenticationError):
        backend.upload_file(source)
