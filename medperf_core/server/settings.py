"""Server settings: where the data lives and how callers authenticate."""

from __future__ import annotations

from pathlib import Path

import attrs

AUTH_MODES = ("local", "jwt")


@attrs.frozen(kw_only=True)
class ServerSettings:
    data_dir: Path
    auth: str = "local"
    jwt_public_key: Path | None = None  # a PEM file with the RS256 public key
    jwt_jwks: Path | None = None  # or a JWKS file (keys chosen by `kid`)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_admin_emails: tuple[str, ...] = ()  # these emails are admins (besides tokens with is_staff: true)
