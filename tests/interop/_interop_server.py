"""Our real server as a MedPerf user meets it: seeded for the data-owner tutorial, TLS, the `jwt` auth provider with
MedPerf-shaped RS256 tokens (tests/interop/conftest.py provides the fixture)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import jwt
import pytest
from _server_helpers import run_medperf
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from medperf_core.testing.server import ServerProcess, free_port, start_server
from medperf_core.testing.tls import self_signed

AUDIENCE = "https://api.medperf.test/"
ISSUER = "https://medperf.test.auth0.com/"
MEDPERF_EMAIL_CLAIM = "https://medperf.org/email"


@attrs.frozen
class MedPerfServer:
    """Our server as a MedPerf user meets it: its HTTPS URL, the certificate to trust, tokens of its issuer."""

    server: ServerProcess
    certificate: Path
    key: rsa.RSAPrivateKey

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, email: str, sub: str | None = None, **claims: Any) -> str:
        """An RS256 token with only MedPerf's claims: its email claim, sub, aud, iss, exp (no `email`)."""
        body = {
            MEDPERF_EMAIL_CLAIM: email,
            "sub": sub or f"auth0|{email.split('@')[0]}",
            "aud": AUDIENCE,
            "iss": ISSUER,
            "exp": int(time.time()) + 3600,
            **claims,
        }
        return jwt.encode(body, self.key, algorithm="RS256")


@pytest.fixture(scope="session")
def medperf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MedPerfServer]:
    """The data-owner tutorial's server (seeded `data` demo) over TLS with the `jwt` auth provider."""
    root = tmp_path_factory.mktemp("interop-server")
    certificate, tls_key = self_signed(root / "tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = root / "jwt-public.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    port = free_port()
    data_dir, home = root / "data", str(root / "home")
    seeded = run_medperf(
        "server", "seed", "--demo", "data", "--data-dir", str(data_dir), "--no-build",
        "--public-url", f"https://127.0.0.1:{port}", home=home,
    )
    assert seeded.returncode == 0, seeded.stderr
    server = start_server(
        data_dir,
        port,
        extra_args=(
            "--auth", "jwt", "--jwt-public-key", str(public), "--jwt-audience", AUDIENCE, "--jwt-issuer", ISSUER,
            "--ssl-certfile", str(certificate), "--ssl-keyfile", str(tls_key),
        ),
        env={"MEDPERF_HOME": home},
    )
    yield MedPerfServer(server, certificate, key)
    code = server.stop()
    assert "Traceback" not in server.log(), server.log()[-3000:]
    assert code in (0, -15), f"exit {code}: {server.log()[-2000:]}"
    verified = run_medperf("events", "verify", *server.audit_args(), home=home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
