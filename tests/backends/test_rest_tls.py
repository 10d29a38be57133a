"""The rest backend trusts exactly the profile's certificate, even when REQUESTS_CA_BUNDLE points elsewhere."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from medperf_core.backends import get_backend
from medperf_core.errors import ServerError
from medperf_core.profiles import Profile
from medperf_core.testing.server import start_server


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


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
