"""`POST /auth/local/token`: a token for a demo user; mounted only when the server runs with `--auth local`."""

from __future__ import annotations

from fastapi import Request

from medperf_core.server.http import Routes
from medperf_core.server.models import TokenRequest

routes = Routes(["auth"])


@routes.post("/auth/local/token/")
def local_token(body: TokenRequest, request: Request) -> dict[str, str]:
    return {"token": request.app.state.auth.issue_token(body.email), "email": body.email}
