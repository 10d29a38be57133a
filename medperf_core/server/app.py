"""The ASGI application: create_app(settings) wires services, the auth provider, routers and error handlers.

`app_from_env` is the factory each worker process of `medperf server start --workers N` imports; `prepare`
creates what the workers share (event store, auth secret) once, in the parent, before they start."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medperf_core import __version__
from medperf_core.server.settings import FaultInjection, ServerSettings

if TYPE_CHECKING:
    from medperf_core.store.server_read_model import ServerReadModel

API_PREFIX = "/api/v0"
WORKER_HEADER = "X-Medperf-Worker"  # the PID of the server process that answered


class WorkerHeader:
    """Adds `X-Medperf-Worker: <pid>` to every response: which of the N worker processes answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pid = str(os.getpid()).encode()

        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-medperf-worker", pid)]}
            await send(message)

        await self.app(scope, receive, send_with_pid)


def prepare(settings: ServerSettings) -> None:
    """Create the event store (migrations, projections) and the auth provider's state once, in one process.

    `server start` calls it before starting its workers, so that N workers starting at once only open what
    exists; it also reports a bad configuration (e.g. jwt without a key) once, as a CLI error."""
    from medperf_core.plugins import get_plugin_host
    from medperf_core.server.storage import open_server_storage

    host = get_plugin_host()
    host.auth_providers.get(settings.auth)(settings)
    storage = open_server_storage(settings.database or settings.data_dir, host=host)
    try:
        collect_at_start(settings, storage.reads)
    finally:
        storage.store.close()


def collect_at_start(settings: ServerSettings, reads: ServerReadModel) -> None:
    """Remove the stored files no entity references past their grace period, and say so on the server's log."""
    from medperf_core.server.files_gc import collect_files

    removed = collect_files(settings.data_dir, reads, settings.files_grace_hours)
    if removed:
        size = sum(f.size for f in removed)
        print(f"medperf server: removed {len(removed)} unreferenced file{'s' if len(removed) != 1 else ''} "
              f"({size} bytes) older than {settings.files_grace_hours:g} hours", file=sys.stderr)


def app_from_env() -> FastAPI:
    """The app of one worker process, from the settings its parent put in MEDPERF_SERVER_SETTINGS (uvicorn factory)."""
    return create_app(ServerSettings.from_env())


def _no_telemetry() -> dict[str, Any]:
    """FastAPI >= 0.16x asks OpenTelemetry (and so the environment) on every request whether to trace it; the
    server exports no telemetry, so that is switched off where FastAPI has the option."""
    import inspect

    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def create_app(settings: ServerSettings) -> FastAPI:
    """A fresh app over the event store in `settings.data_dir`, authenticating with `settings.auth`."""
    from medperf_core.plugins import PluginHost, get_plugin_host
    from medperf_core.server.auth import IssuesTokens
    from medperf_core.server.files import FILES_DIR, FileStore
    from medperf_core.server.http import install_error_handlers
    from medperf_core.server.services import ServerServices

    host: PluginHost = get_plugin_host()  # the server process's plugins, passed down to what it opens
    provider = host.auth_providers.get(settings.auth)(settings)
    svc = ServerServices.open(settings.database or settings.data_dir, host, FaultInjection.from_env())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from medperf_core.server.runtime import request_threads, settle_after_startup, use_request_threads

        use_request_threads(request_threads(settings))
        settle_after_startup()
        yield
        await svc.reads.aclose()
        svc.close()

    app = FastAPI(
        **_no_telemetry(),
        title="MedPerf server",
        version=__version__,
        redirect_slashes=False,
        lifespan=lifespan,
        description="Federated benchmarking of medical AI. Resources follow MedPerf's API v0.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.services = svc
    app.state.auth = provider
    app.state.settings = settings
    app.state.files = FileStore(settings.data_dir / FILES_DIR)
    install_error_handlers(app)
    from medperf_core.server.openapi import document

    document(app)
    from medperf_core.server.answers import KeptAnswers

    app.add_middleware(KeptAnswers)
    from medperf_core.endpoints import endpoint
    from medperf_core.server.files import MB
    from medperf_core.server.upload_limit import UploadLimit

    app.add_middleware(UploadLimit, path=API_PREFIX + endpoint("upload_file").path,
                       max_bytes=int(settings.max_file_mb * MB))
    app.add_middleware(WorkerHeader)  # outermost: also on kept answers
    from medperf_core.server.route_index import SegmentIndex
    from medperf_core.server.routes import api_routers

    api = SegmentIndex(API_PREFIX, api_routers(API_PREFIX, local_auth=isinstance(provider, IssuesTokens)))
    app.router.routes.append(api)
    app.state.api_routes = api

    from medperf_core.server.ui.pages import install as install_ui

    install_ui(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
