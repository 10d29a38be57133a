"""The UI's pages: sign in and out, the list of benchmarks, a benchmark's page; their rows are the endpoint table's
`PAGES`, from which `install(app)` mounts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from medperf_core.domain.callers import Caller
from medperf_core.errors import AuthenticationError, MedperfError, NotFoundError, PermissionDeniedError
from medperf_core.server.services import ServerServices
from medperf_core.server.services.leaderboard import LeaderboardService, every
from medperf_core.server.ui import session, view

HERE = Path(__file__).parent
# Nothing but this server's own files: no external script, style, font or image can load.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
_templates.filters["fmt"] = view.fmt

def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(
        html, status_code=status,
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _services(request: Request) -> ServerServices:
    svc: ServerServices = request.app.state.services
    return svc


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)


def _who(request: Request, caller: Caller) -> dict[str, Any]:
    me = _services(request).users.me(caller)
    return {"email": me["email"], "is_staff": bool(me["is_staff"])}


def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    from medperf_core.server.auth import DEMO_USERS

    demo = list(DEMO_USERS.values()) if session.can_issue_demo_tokens(request) else []
    return page("login.html", demo_users=demo, next=session.safe_next(next), error=None, who=None)


async def login(request: Request) -> Response:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    target = session.safe_next(form.get("next"))
    provider = request.app.state.auth
    try:
        if form.get("email") and session.can_issue_demo_tokens(request):
            token = provider.issue_token(form["email"])
        elif form.get("token", "").strip():
            token = form["token"].strip()
            provider.authenticate(token)
        else:
            raise AuthenticationError("give a token", "paste the token your identity provider issued")
    except MedperfError as e:
        from medperf_core.server.auth import DEMO_USERS

        demo = list(DEMO_USERS.values()) if session.can_issue_demo_tokens(request) else []
        return page("login.html", status=401, demo_users=demo, next=target, error=e.one_line(), who=None)
    response = RedirectResponse(target, status_code=303)
    session.remember(response, request, token)
    return response


def logout() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    session.forget(response)
    return response


def index(request: Request) -> Response:
    caller = session.viewer(request)
    if caller is None:
        return _to_login(request)
    svc = _services(request)
    benchmarks = every(lambda limit, offset: svc.benchmarks.list(caller, limit, offset))
    return page("index.html", benchmarks=benchmarks, who=_who(request, caller))


def benchmark_page(
    request: Request, benchmark_id: int, sort: str | None = None, dir: str | None = None
) -> Response:
    caller = session.viewer(request)
    if caller is None:
        return _to_login(request)
    who = _who(request, caller)
    try:
        board = LeaderboardService(_services(request)).of(caller, benchmark_id)
    except (NotFoundError, PermissionDeniedError) as e:
        status = 404 if isinstance(e, NotFoundError) else 403
        return page("error.html", status=status, message=e.one_line(), who=who)
    order = view.Sort.parse(sort, dir, board.table.metrics)
    datasets, matrix_rows = view.matrix(board)
    return page(
        "benchmark.html",
        who=who,
        board=board,
        b=board.benchmark,
        rows=view.sorted_rows(board, order),
        sort=order,
        chart=view.chart_svg(board),
        matrix_datasets=datasets,
        matrix_rows=matrix_rows,
        model_label=lambda m: view.model_label(board, m),
        dataset_label=lambda d: view.dataset_label(board, d),
    )


def home() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


def install(app: FastAPI) -> None:
    """The pages of the endpoint table's `PAGES` (a page with an id in its path also without its trailing slash,
    as the API's are), and their stylesheet under /ui/static/."""
    from medperf_core.endpoints import PAGES
    from medperf_core.server.routes import handler_of

    for row in PAGES:
        variants = (row.path.rstrip("/"), row.path) if row.path_params else (row.path,)
        for path in variants:
            app.add_api_route(path, handler_of(row), methods=[row.method], name=row.name, include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
