"""The ASGI application: create_app(settings) wires services, the auth provider, routers and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from medperf_core import __version__
from medperf_core.server.settings import ServerSettings

API_PREFIX = "/api/v0"


def create_app(settings: ServerSettings) -> FastAPI:
    """A fresh app over the event store in `settings.data_dir`, authenticating with `settings.auth`."""
    from medperf_core.plugins import get_plugin_host
    from medperf_core.server.http import install_error_handlers
    from medperf_core.server.routers import auth, benchmarks, datasets, me, mlcubes, results
    from medperf_core.server.services import ServerServices

    provider = get_plugin_host().auth_providers.get(settings.auth)(settings)
    svc = ServerServices.open(settings.data_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        svc.close()

    app = FastAPI(
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
    install_error_handlers(app)
    for module in (me, benchmarks, mlcubes, datasets, results):
        app.include_router(module.routes.router, prefix=API_PREFIX)
    if hasattr(provider, "issue_token"):
        app.include_router(auth.routes.router, prefix=API_PREFIX)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
