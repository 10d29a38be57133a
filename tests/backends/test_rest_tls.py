"""The rest backend trusts exactly the profile's certificate, even when REQUESTS_CA_BUNDLE points elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from medperf_core.backends import get_backend
from medperf_core.backends.rest import RestBackend
from medperf_core.errors import AuthenticationError, ServerError
from medperf_core.profiles import Profile
from medperf_core.testing.server import start_server
from medperf_core.testing.tls import self_signed


def test_profile_certificate_wins_over_the_environment_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    server = start_server(tmp_path / "server", extra_args=("--ssl-certfile", str(cert), "--ssl-keyfile", str(key)))
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
        monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
        trusted = Profile(name="tls", server=server.url, certificate=str(cert))
        token = get_backend(trusted).login("testdo@example.com")
        me = get_backend(Profile(name="tls", server=server.url, certificate=str(cert), token=token)).me()
        assert me["email"] == "testdo@example.com"
        with pytest.raises(ServerError, match="TLS"):
            get_backend(Profile(name="untrusted", server=server.url, token=token)).me()
    finally:
        server.stop()


def test_an_http_profile_against_an_https_server_says_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = start_server(tmp_path / "server", extra_args=("--ssl-certfile", str(cert), "--ssl-keyfile", str(key)))
    try:
        plain = "http://" + server.url.removeprefix("https://")
        with pytest.raises(ServerError, match=r"speaks HTTPS \(TLS\)") as info:
            RestBackend(Profile(name="plain", server=plain, token="t"), retries=0).me()
        assert info.value.hint and "https://" in info.value.hint
        assert "is it running" not in info.value.one_line()
    finally:
        server.stop()


def test_a_url_that_is_not_a_medperf_server_is_named_without_its_html(tmp_path: Path) -> None:
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/expired"):
                detail = b'{"detail": "token expired (log in with: medperf auth login -e EMAIL)"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(detail)))
                self.end_headers()
                self.wfile.write(detail)
                return
            status = 200 if self.path.startswith("/ok") else 404
            body = b"<!DOCTYPE html>\n<html><body><h1>Welcome to nginx</h1></body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        for server in (url, url + "/ok"):
            with pytest.raises(ServerError, match="is not a medperf server") as info:
                get_backend(Profile(name="web", server=server, token="t")).me()
            assert "<" not in info.value.one_line() and "nginx" not in info.value.one_line()
        with pytest.raises(AuthenticationError) as expired:
            get_backend(Profile(name="web", server=url + "/expired", token="t")).me()
        assert expired.value.one_line().count("medperf auth login") == 1
    finally:
        httpd.shutdown()
