"""Auth providers turn a bearer token into an Identity: `local` (tutorial demo users) and `jwt` (RS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from medperf_core.atomic import atomic_write_bytes
from medperf_core.errors import AuthenticationError, ConfigError, UserError
from medperf_core.server.settings import ServerSettings

SECRET_FILE = "local_auth_secret"
MEDPERF_EMAIL_CLAIM = "https://medperf.org/email"  # where MedPerf's identity provider puts the user's email
DEFAULT_EMAIL_CLAIMS = ("email", MEDPERF_EMAIL_CLAIM)


@attrs.frozen(kw_only=True)
class Identity:
    """Who the caller is, as the auth provider vouches; the services map it to a user row (created on first use)."""

    email: str
    username: str
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False
    admin_reason: str = ""  # which setting made `is_staff` what it is (recorded when a user's role changes)


class AuthProvider(Protocol):
    name: str

    def authenticate(self, token: str) -> Identity:
        """The identity behind a bearer token; raises AuthenticationError when it is not valid."""
        ...


@runtime_checkable
class IssuesTokens(Protocol):
    """A provider that signs users in itself (the tutorial's `local` one): the server then serves
    `/auth/token` and the web UI's sign-in buttons."""

    def issue_token(self, email: str) -> str: ...


DEMO_USERS: dict[str, Identity] = {
    i.email: i
    for i in (
        Identity(
            email="testadmin@example.com",
            username="testadmin",
            first_name="Test",
            last_name="Admin",
            is_staff=True,
            admin_reason="the tutorial's demo admin",
        ),
        Identity(email="testbo@example.com", username="testbo", first_name="Benchmark", last_name="Owner"),
        Identity(email="testmo@example.com", username="testmo", first_name="Model", last_name="Owner"),
        Identity(email="testdo@example.com", username="testdo", first_name="Data", last_name="Owner"),
    )
}


def demo_identity(email: str) -> Identity:
    try:
        return DEMO_USERS[email]
    except KeyError:
        raise UserError(f"{email} is not a demo user", f"use one of {', '.join(DEMO_USERS)}") from None


def _load_secret(data_dir: Path) -> bytes:
    """A random secret per data dir, created once (0600) and kept beside the event store.

    Several server workers may start at the same moment: the secret is written whole to a private temp file and
    published with os.link, which fails if the name exists, so a reader never sees a half-written file and every
    process ends up with the winner's secret."""
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # exclusive: another process that published its secret first wins, and this one reads theirs
        with atomic_write_bytes(path, exclusive=True) as f:  # created 0600
            f.write(secrets.token_hex(32).encode())
    secret = path.read_bytes().strip()
    if not secret:
        raise ConfigError(f"{path} is empty", "delete it and restart the server (issued tokens stop working)")
    return secret


VERIFIED_TOKENS = 10_000  # tokens whose verification a process remembers (forgotten all at once past this)


class LocalAuthProvider:
    """Tutorial auth: the four demo users; a token is `base64url(email).hmac_sha256(secret, email)`.

    A verified token is remembered: its identity depends only on the token and this process's secret, which
    never changes while it runs."""

    name = "local"

    def __init__(self, settings: ServerSettings) -> None:
        self._secret = _load_secret(settings.data_dir)
        self._verified: dict[str, Identity] = {}

    def _mac(self, email: str) -> str:
        return hmac.new(self._secret, email.encode(), hashlib.sha256).hexdigest()

    def issue_token(self, email: str) -> str:
        identity = demo_identity(email)
        encoded = base64.urlsafe_b64encode(identity.email.encode()).decode().rstrip("=")
        return f"{encoded}.{self._mac(identity.email)}"

    def authenticate(self, token: str) -> Identity:
        found = self._verified.get(token)
        if found is not None:
            return found
        identity = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = identity
        return identity

    def _verify(self, token: str) -> Identity:
        encoded, _, mac = token.partition(".")
        try:
            email = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            raise AuthenticationError(
                "malformed token", "log in again: medperf auth login -e EMAIL"
            ) from None
        if not hmac.compare_digest(mac, self._mac(email)) or email not in DEMO_USERS:
            raise AuthenticationError("invalid token", "log in again: medperf auth login -e EMAIL")
        return DEMO_USERS[email]


class JwtAuthProvider:
    """RS256 tokens checked against a public key (PEM) or a JWKS file, an audience and an issuer.

    A verified token is remembered with its expiry (`exp`) and reused only before it: the
    signature, audience and issuer of the same bytes verify the same way against keys that never change while the
    process runs."""

    name = "jwt"

    def __init__(self, settings: ServerSettings) -> None:
        if not settings.jwt_audience or not settings.jwt_issuer:
            raise ConfigError(
                "jwt auth needs an audience and an issuer", "pass --jwt-audience and --jwt-issuer"
            )
        self._keys: dict[str | None, Any] = {}
        if settings.jwt_public_key is not None:
            self._keys[None] = settings.jwt_public_key.read_text(encoding="utf-8")
        elif settings.jwt_jwks is not None:
            import jwt

            jwks = json.loads(settings.jwt_jwks.read_text(encoding="utf-8"))
            for key in jwt.PyJWKSet.from_dict(jwks).keys:
                self._keys[key.key_id] = key.key
        else:
            raise ConfigError("jwt auth needs a key", "pass --jwt-public-key FILE (PEM) or --jwt-jwks FILE")
        self._settings = settings
        self._verified: dict[str, tuple[Identity, float]] = {}

    def _key_for(self, token: str) -> Any:
        import jwt

        if None in self._keys:
            return self._keys[None]
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self._keys:
            raise AuthenticationError(f"token signed with an unknown key {kid!r}")
        return self._keys[kid]

    def _email(self, claims: dict[str, Any]) -> str:
        """The email from the configured claim, or by default from `email`, else MedPerf's claim."""
        names = (self._settings.jwt_email_claim,) if self._settings.jwt_email_claim else DEFAULT_EMAIL_CLAIMS
        for name in names:
            email = claims.get(name)
            if isinstance(email, str) and "@" in email:
                return email
        raise AuthenticationError(
            f"the token has no email in the claim {' or '.join(map(repr, names))}",
            "set the claim the identity provider uses: --jwt-email-claim NAME (MEDPERF_JWT_EMAIL_CLAIM)",
        )

    def authenticate(self, token: str) -> Identity:
        found = self._verified.get(token)
        if found is not None and time.time() < found[1]:
            return found[0]
        identity, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = (identity, expires)
        return identity

    def _verify(self, token: str) -> tuple[Identity, float]:
        import jwt

        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=["RS256"],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as e:
            raise AuthenticationError(f"invalid token: {e}") from None
        email = self._email(claims)
        is_staff, reason = admin_by_settings(self._settings, email, claims)
        username = claims.get("sub") or claims.get("preferred_username") or email.split("@")[0]
        identity = Identity(
            email=email,
            username=str(username),
            first_name=str(claims.get("given_name", "")),
            last_name=str(claims.get("family_name", "")),
            is_staff=is_staff,
            admin_reason=reason,
        )
        return identity, float(claims["exp"])


def admin_by_settings(settings: ServerSettings, email: str, claims: dict[str, Any]) -> tuple[bool, str]:
    """Whether the server's configuration makes a token's user an admin, and which setting says so.

    Only what the operator configured counts: the --jwt-admin emails, and the claim named by --jwt-admin-claim.
    No claim is trusted by default (an identity provider's `is_staff` or `roles` mean nothing to this server
    unless the operator says they do)."""
    if email in settings.jwt_admin_emails:
        return True, "in --jwt-admin"
    spec = settings.jwt_admin_claim
    if spec:
        name, has_value, wanted = spec.partition("=")
        value = claims.get(name)
        granted = (value == wanted or (isinstance(value, list) and wanted in value)) if has_value else value is True
        if granted:
            return True, f"the token's claim {spec!r} (--jwt-admin-claim)"
        return False, f"not in --jwt-admin and the token lacks the claim {spec!r} (--jwt-admin-claim)"
    return False, "not in --jwt-admin"
