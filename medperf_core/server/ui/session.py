"""Who views a page: the bearer token kept in an HttpOnly cookie, checked by the server's auth provider."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from medperf_core.domain.callers import Caller
from medperf_core.errors import AuthenticationError
from medperf_core.server.services import ServerServices

COOKIE = "medperf_ui_token"
MAX_AGE = 12 * 3600


def viewer(request: Request) -> Caller | None:
    """The signed-in viewer, or None (no cookie, or a token the provider no longer accepts)."""
    token = request.cookies.get(COOKIE, "").strip()
    if not token:
        return None
    try:
        identity = request.app.state.auth.authenticate(token)
    except AuthenticationError:
        return None
    svc: ServerServices = request.app.state.services
    return svc.users.identify(identity)


def can_issue_demo_tokens(request: Request) -> bool:
    """Only the tutorial's `local` provider signs demo users in by a button."""
    from medperf_core.server.auth import IssuesTokens

    return isinstance(request.app.state.auth, IssuesTokens)


def remember(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE, path="/ui", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/ui")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of this UI only (never another site)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"
