"""The `login` row's handler: a token for a demo user (served only with `--auth local`)."""

from __future__ import annotations

from fastapi import Request

from medperf_core.server.models import TokenRequest


def login(body: TokenRequest, request: Request) -> dict[str, str]:
    return {"token": request.app.state.auth.issue_token(body.email), "email": body.email}
