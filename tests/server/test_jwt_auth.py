"""The jwt auth provider: RS256 tokens checked for signature, audience, issuer and expiry by a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from medperf_core.testing.server import ServerProcess, start_server

AUD, ISS = "medperf-test", "https://issuer.test"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return _key(), _key()


@pytest.fixture(scope="module", params=["pem", "jwks"])
def jwt_server(
    request: pytest.FixtureRequest,
    keys: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("jwt-server")
    public = keys[0].public_key()
    if request.param == "pem":
        key_file = data / "public.pem"
        key_file.write_bytes(
            public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        key_args: tuple[str, ...] = ("--jwt-public-key", str(key_file))
    else:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        key_file = data / "jwks.json"
        key_file.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
        key_args = ("--jwt-jwks", str(key_file))
    server = start_server(
        data / "db",
        extra_args=(
            "--auth",
            "jwt",
            *key_args,
            "--jwt-audience",
            AUD,
            "--jwt-issuer",
            ISS,
            "--jwt-admin",
            "boss@example.org",
        ),
        env={"MEDPERF_HOME": str(data / "home")},
    )
    yield server
    server.stop()


def _token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    body = {"email": "alice@example.org", "aud": AUD, "iss": ISS, "exp": int(time.time()) + 600, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def _me(server: ServerProcess, token: str) -> requests.Response:
    return requests.get(server.api + "/me/", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_valid_token_registers_the_user(jwt_server: ServerProcess, keys: Any) -> None:
    response = _me(jwt_server, _token(keys[0]))
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.org"
    users = requests.get(
        jwt_server.api + "/users/",
        timeout=10,
        headers={"Authorization": f"Bearer {_token(keys[0], email='boss@example.org')}"},
    )
    assert users.status_code == 200 and users.json()["count"] >= 2
    assert _me(jwt_server, _token(keys[0], email="x@example.org")).json()["is_staff"] is False


@pytest.mark.parametrize(
    "claims",
    [{"aud": "other"}, {"iss": "https://evil"}, {"exp": 1}, {"email": None}],
    ids=["audience", "issuer", "expired", "no-email"],
)
def test_bad_tokens_are_401(jwt_server: ServerProcess, keys: Any, claims: dict[str, Any]) -> None:
    response = _me(jwt_server, _token(keys[0], **claims))
    assert response.status_code == 401, response.text


def test_a_token_signed_by_another_key_is_401(jwt_server: ServerProcess, keys: Any) -> None:
    assert _me(jwt_server, _token(keys[1])).status_code == 401


def test_no_local_token_endpoint_in_jwt_mode(jwt_server: ServerProcess) -> None:
    response = requests.post(
        jwt_server.api + "/auth/local/token/", json={"email": "testdo@example.com"}, timeout=10
    )
    assert response.status_code in (404, 405)


def test_medperf_tokens_carry_the_email_in_medperfs_claim(jwt_server: ServerProcess, keys: Any) -> None:
    token = _token(keys[0], email=None, sub="auth0|carol", **{"https://medperf.org/email": "carol@example.org"})
    response = _me(jwt_server, token)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "carol@example.org"
    assert response.json()["username"] == "auth0|carol"


def test_the_email_claim_is_a_setting(keys: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(
        keys[0].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    args = ("--auth", "jwt", "--jwt-public-key", str(key_file), "--jwt-audience", AUD, "--jwt-issuer", ISS)
    with start_server(
        tmp_path / "db", extra_args=args, env={"MEDPERF_HOME": str(tmp_path / "h"), "MEDPERF_JWT_EMAIL_CLAIM": "mail"}
    ) as server:
        assert _me(server, _token(keys[0], email=None, mail="dave@example.org")).json()["email"] == "dave@example.org"
        refused = _me(server, _token(keys[0]))  # only `email`: not the configured claim
        assert refused.status_code == 401 and "'mail'" in refused.text and "--jwt-email-claim" in refused.text


def test_the_pages_sign_in_with_a_jwt_and_offer_no_demo_users(jwt_server: ServerProcess, keys: Any) -> None:
    login = requests.get(jwt_server.url + "/ui/login", timeout=10)
    assert login.status_code == 200 and 'name="token"' in login.text and "login-testdo" not in login.text
    demo = requests.post(
        jwt_server.url + "/ui/login", data={"email": "testdo@example.com"}, allow_redirects=False, timeout=10
    )
    assert demo.status_code == 401  # no demo users outside the tutorial's local provider
    expired = _token(keys[0], exp=int(time.time()) - 10)
    refused = requests.post(jwt_server.url + "/ui/login", data={"token": expired}, allow_redirects=False, timeout=10)
    assert refused.status_code == 401 and "expired" in refused.text.lower()
    session = requests.Session()
    signed = session.post(jwt_server.url + "/ui/login", data={"token": _token(keys[0])}, timeout=10)
    assert signed.status_code == 200 and "alice@example.org" in signed.text


def _jwt_args(keys: Any, tmp_path: Path, *more: str) -> tuple[str, ...]:
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(
        keys[0].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return ("--auth", "jwt", "--jwt-public-key", str(key_file), "--jwt-audience", AUD, "--jwt-issuer", ISS, *more)


def _users(server: ServerProcess, token: str) -> int:
    response = requests.get(server.api + "/users/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return response.status_code


def _role_changes(server: ServerProcess) -> list[dict[str, Any]]:
    from medperf_core.server.storage import open_server_storage

    storage = open_server_storage(server.where)
    try:
        return [e.payload for e in storage.store.read_all() if e.type == "user.role_changed"]
    finally:
        storage.store.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_admin_rights_follow_the_admin_list_at_every_request(
    keys: Any, tmp_path: Path, database: str
) -> None:
    from _server_helpers import server_database

    token = _token(keys[0], email="boss@example.org")
    env = {"MEDPERF_HOME": str(tmp_path / "h")}
    with server_database(database) as url:
        with start_server(tmp_path / "db", extra_args=_jwt_args(keys, tmp_path, "--jwt-admin", "boss@example.org"),
                          env=env, database=url) as server:
            assert _users(server, token) == 200
            assert _me(server, token).json()["is_staff"] is True
        with start_server(tmp_path / "db", extra_args=_jwt_args(keys, tmp_path), env=env, database=url) as server:
            assert _users(server, token) == 403  # removed from --jwt-admin: refused at the next request
            assert _me(server, token).json()["is_staff"] is False
            assert _role_changes(server) == [
                {"user_id": 1, "is_staff": False, "reason": "not in --jwt-admin"}
            ]  # once, at the first request that saw the change
        with start_server(tmp_path / "db", extra_args=_jwt_args(keys, tmp_path, "--jwt-admin", "boss@example.org"),
                          env=env, database=url) as server:
            assert _users(server, token) == 200  # added again: promoted at the next request
            assert [c["is_staff"] for c in _role_changes(server)] == [False, True]
            assert "Traceback" not in server.log()


def test_an_is_staff_claim_is_not_trusted_unless_the_operator_names_it(keys: Any, tmp_path: Path) -> None:
    staff = _token(keys[0], email="eve@example.org", is_staff=True)
    env = {"MEDPERF_HOME": str(tmp_path / "h")}
    with start_server(tmp_path / "db", extra_args=_jwt_args(keys, tmp_path), env=env) as server:
        assert _users(server, staff) == 403
        assert _me(server, staff).json()["is_staff"] is False
    with start_server(
        tmp_path / "db", extra_args=_jwt_args(keys, tmp_path, "--jwt-admin-claim", "is_staff"), env=env
    ) as server:
        assert _users(server, staff) == 200
        assert _users(server, _token(keys[0], email="eve@example.org")) == 403  # the same user, without the claim
        assert _role_changes(server)[-1]["is_staff"] is False


def test_a_role_claim_names_a_value(keys: Any, tmp_path: Path) -> None:
    args = _jwt_args(keys, tmp_path, "--jwt-admin-claim", "roles=medperf-admin")
    with start_server(tmp_path / "db", extra_args=args, env={"MEDPERF_HOME": str(tmp_path / "h")}) as server:
        assert _users(server, _token(keys[0], roles=["reader", "medperf-admin"])) == 200
        assert _users(server, _token(keys[0], email="bob@example.org", roles=["reader"])) == 403
        assert _users(server, _token(keys[0], email="bob@example.org", roles="medperf-admin")) == 200
