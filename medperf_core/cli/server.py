"""`medperf server`: run, reset and seed the medperf server (FastAPI on uvicorn, imported only when run)."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import confirm
from medperf_core.errors import UserError

app = typer.Typer(no_args_is_help=True)

DataDirOption = typer.Option(
    None,
    "--data-dir",
    envvar="MEDPERF_SERVER_DATA_DIR",
    help="Where the server keeps its event log (default: MEDPERF_HOME/server).",
)


def _data_dir(value: Path | None) -> Path:
    from medperf_core.server.storage import default_data_dir

    return (value or default_data_dir()).expanduser().resolve()


@app.command("start")
def start(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    data_dir: Path = DataDirOption,
    auth: str = typer.Option(
        "local",
        "--auth",
        envvar="MEDPERF_SERVER_AUTH",
        help="Auth provider: local (tutorial demo users) or jwt.",
    ),
    jwt_public_key: Path = typer.Option(
        None, "--jwt-public-key", envvar="MEDPERF_JWT_PUBLIC_KEY", help="PEM file with the RS256 public key."
    ),
    jwt_jwks: Path = typer.Option(None, "--jwt-jwks", envvar="MEDPERF_JWT_JWKS", help="Or a JWKS file."),
    jwt_audience: str = typer.Option(None, "--jwt-audience", envvar="MEDPERF_JWT_AUDIENCE"),
    jwt_issuer: str = typer.Option(None, "--jwt-issuer", envvar="MEDPERF_JWT_ISSUER"),
    jwt_admin: list[str] = typer.Option([], "--jwt-admin", help="An admin's email (repeatable)."),
    ssl_certfile: Path = typer.Option(None, "--ssl-certfile", help="Serve HTTPS with this certificate."),
    ssl_keyfile: Path = typer.Option(None, "--ssl-keyfile", help="The certificate's private key."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
) -> None:
    """Run the HTTP API (/api/v0/, OpenAPI at /api/v0/docs) until interrupted."""
    from medperf_core.server.settings import AUTH_MODES, ServerSettings

    if auth not in AUTH_MODES:
        raise UserError(f"unknown auth provider {auth!r}", f"use one of {', '.join(AUTH_MODES)}")
    settings = ServerSettings(
        data_dir=_data_dir(data_dir),
        auth=auth,
        jwt_public_key=jwt_public_key,
        jwt_jwks=jwt_jwks,
        jwt_audience=jwt_audience,
        jwt_issuer=jwt_issuer,
        jwt_admin_emails=tuple(jwt_admin),
    )
    import uvicorn

    from medperf_core.server.app import create_app

    application = create_app(settings)
    scheme = "https" if ssl_certfile else "http"
    typer.echo(
        f"medperf server on {scheme}://{host}:{port}/api/v0/ (auth {auth}, data {settings.data_dir})",
        err=True,
    )
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
    )


@app.command("reset")
def reset(
    data_dir: Path = DataDirOption,
    yes: bool = typer.Option(False, "-y", "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete the server's event log (a fresh, empty database). Stop the server first."""
    from medperf_core.server.storage import EVENTS_FILE, reset_data_dir

    directory = _data_dir(data_dir)
    if not (directory / EVENTS_FILE).exists():
        typer.echo(f"nothing to reset: no {EVENTS_FILE} in {directory}")
        return
    confirm(f"Delete every event of the server in {directory}?", yes)
    removed = reset_data_dir(directory)
    typer.echo(f"✅ reset {directory} (removed {', '.join(p.name for p in removed)})")


@app.command("seed")
def seed(
    demo: str = typer.Option(..., "--demo", help="data | benchmark | model: what the tutorial starts from."),
    data_dir: Path = DataDirOption,
    no_build: bool = typer.Option(
        False, "--no-build", help="Do not build the tutorial images (image hashes stay empty)."
    ),
) -> None:
    """Fill an empty server with the tutorial's starting entities, as the demo users would register them."""
    from medperf_core.server.seed import DEMOS, seed_demo

    if demo not in DEMOS:
        raise UserError(f"unknown demo {demo!r}", f"use one of {', '.join(DEMOS)}")
    summary = seed_demo(_data_dir(data_dir), demo, build_images=not no_build, progress=typer.echo)
    for line in summary:
        typer.echo(line)
