"""`medperf server`: run, reset and seed the medperf server (FastAPI on uvicorn, imported only when run)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


SERVER_EXTRA = "pip install 'medperf[server]'"


def _require_server_extra(auth: str) -> None:
    """One line naming what to install, instead of a ModuleNotFoundError, when the server extra is missing."""
    modules = ["fastapi", "uvicorn", "python_multipart"] + (["jwt", "cryptography"] if auth == "jwt" else [])
    for module in modules:
        try:
            __import__(module)
        except ModuleNotFoundError as e:
            raise UserError(
                f"medperf server needs the Python package {e.name or module!r}, which is not installed",
                f"install the server extra: {SERVER_EXTRA}",
            ) from None


def _data_dir(value: Path | None) -> Path:
    from medperf_core.server.storage import default_data_dir

    return (value or default_data_dir()).expanduser().resolve()


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _check_public_url(value: str) -> str:
    """`http(s)://host[:port][/prefix]` without a trailing slash; a UserError naming the problem otherwise."""
    from urllib.parse import urlparse

    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise UserError(
            f"--public-url {value!r} is not an http(s) base URL", "give e.g. --public-url https://medperf.example.org"
        )
    return value.rstrip("/")


def _require_free_port(host: str, port: int) -> None:
    """Refuse, before anything is created or announced, an address another process already listens on."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UserError(f"port {port} on {host} is already in use",
                                "stop what listens there, e.g. another medperf server, or choose another --port") from e
            raise UserError(f"cannot listen on {host}:{port} ({e.strerror})", "check --host and --port") from e


def _log_config(level: str, access_log: bool) -> dict[str, Any]:
    """uvicorn's logging at `level`, with request lines (uvicorn logs them at INFO) shown whenever `access_log`."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    upper = "TRACE" if level == "trace" else level.upper()
    config["loggers"]["uvicorn"]["level"] = upper
    config["loggers"]["uvicorn.error"]["level"] = upper
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log and level != "trace" else upper
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


GraceOption = typer.Option(
    168,
    "--files-grace-hours",
    min=0,
    envvar="MEDPERF_SERVER_FILES_GRACE_HOURS",
    help="Stored files that no container or benchmark references are removed once this many hours old (at "
    "start-up, and by `server gc-files`); the time lets a registration follow its uploads.",
)


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
    jwt_admin: list[str] = typer.Option(
        [], "--jwt-admin", help="An admin's email (repeatable); checked at every request, so a restart without it "
        "revokes the rights."
    ),
    jwt_admin_claim: str = typer.Option(
        None,
        "--jwt-admin-claim",
        envvar="MEDPERF_JWT_ADMIN_CLAIM",
        help="Also make admins the users whose token carries this claim: NAME (the claim is true) or NAME=VALUE "
        "(equal to VALUE, or a list holding it, e.g. roles=medperf-admin). Default: no claim is trusted.",
    ),
    jwt_email_claim: str = typer.Option(
        None,
        "--jwt-email-claim",
        envvar="MEDPERF_JWT_EMAIL_CLAIM",
        help="The token claim holding the user's email (default: email, else https://medperf.org/email).",
    ),
    public_url: str = typer.Option(
        None,
        "--public-url",
        envvar="MEDPERF_SERVER_PUBLIC_URL",
        help="The base URL clients reach this server at (https://host[:port]); stored files are published under "
        "it (default: the host each request was addressed to).",
    ),
    access_log: bool = typer.Option(
        False, "--access-log", envvar="MEDPERF_SERVER_ACCESS_LOG", help="Log every request line (to stderr)."
    ),
    ssl_certfile: Path = typer.Option(None, "--ssl-certfile", help="Serve HTTPS with this certificate."),
    ssl_keyfile: Path = typer.Option(None, "--ssl-keyfile", help="The certificate's private key."),
    log_level: str = typer.Option(
        "warning", "--log-level", help="uvicorn log level (critical, error, warning, info, debug, trace)."
    ),
    database: str = typer.Option(
        None,
        "--database",
        envvar="MEDPERF_DATABASE_URL",
        help="The server's database URL (default: sqlite in --data-dir); its scheme picks the event recorder.",
    ),
    insecure_demo_auth: bool = typer.Option(
        False,
        "--insecure-demo-auth",
        help="Allow --auth local (anyone may take any demo user's token, admin included) on a non-loopback --host.",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        envvar="MEDPERF_SERVER_WORKERS",
        help="Server processes sharing the data directory (uvicorn's own worker supervisor: no extra "
        "package, restarts a worker that dies). Each response names its process in X-Medperf-Worker.",
    ),
    threads: int = typer.Option(
        None,
        "--threads",
        min=1,
        max=1024,
        envvar="MEDPERF_SERVER_THREADS",
        help="Threads per process for requests' blocking work (default: 24 on SQLite, whose writes take turns; "
        "40 on PostgreSQL, whose round trips overlap).",
    ),
    shutdown_timeout: int = typer.Option(
        10,
        "--shutdown-timeout",
        min=0,
        envvar="MEDPERF_SERVER_SHUTDOWN_TIMEOUT",
        help="Seconds a stopping server (SIGTERM, Ctrl-C) waits for requests in flight before it closes them.",
    ),
    max_file_mb: float = typer.Option(
        100,
        "--max-file-mb",
        min=0.001,
        envvar="MEDPERF_SERVER_MAX_FILE_MB",
        help="The largest upload to /files/ in MB (container configs, parameters, additional files, demo "
        "datasets); larger ones get 413 and are not read further.",
    ),
    files_grace_hours: float = GraceOption,
) -> None:
    """Run the HTTP API (/api/v0/, OpenAPI at /api/v0/docs) and the pages (/ui/) until interrupted."""
    from medperf_core.server.settings import AUTH_MODES, SETTINGS_ENV, ServerSettings, decision_delay_seconds

    if auth not in AUTH_MODES:
        raise UserError(f"unknown auth provider {auth!r}", f"use one of {', '.join(AUTH_MODES)}")
    _require_server_extra(auth)
    if auth == "local" and not _loopback(host):
        if not insecure_demo_auth:
            raise UserError(
                f"--auth local on --host {host} would hand out every demo user's token (admin included) to anyone "
                "who can reach it",
                "use --auth jwt for a real server, or --host 127.0.0.1; for a demo on a trusted network add "
                "--insecure-demo-auth",
            )
        typer.echo(
            f"⚠️  WARNING: --auth local on {host}: ANYONE who reaches this server can act as ANY demo user, admin "
            "included (--insecure-demo-auth). Never hold real data on it.",
            err=True,
        )
    if jwt_admin_claim is not None and not jwt_admin_claim.partition("=")[0].strip():
        raise UserError(f"--jwt-admin-claim {jwt_admin_claim!r} names no claim",
                        "give NAME (the claim is true) or NAME=VALUE, e.g. --jwt-admin-claim roles=medperf-admin")
    decision_delay_seconds()  # a malformed MEDPERF_SERVER_DECISION_DELAY fails here, not on every write
    if public_url is not None:
        public_url = _check_public_url(public_url)
    if log_level.lower() not in LOG_LEVELS:
        raise UserError(f"unknown log level {log_level!r}", f"use one of {', '.join(LOG_LEVELS)}")
    if database is not None:
        from medperf_core.store.backends import backend_for

        backend_for(database)  # an unknown scheme names the known recorders, before anything starts
    _require_free_port(host, port)  # before the start-up line: never a success line, then "address in use"
    settings = ServerSettings(
        data_dir=_data_dir(data_dir),
        database=database,
        auth=auth,
        jwt_public_key=jwt_public_key,
        jwt_jwks=jwt_jwks,
        jwt_audience=jwt_audience,
        jwt_issuer=jwt_issuer,
        jwt_admin_emails=tuple(jwt_admin),
        jwt_admin_claim=jwt_admin_claim or None,
        jwt_email_claim=jwt_email_claim or None,
        public_url=public_url,
        threads=threads,
        max_file_mb=max_file_mb,
        files_grace_hours=files_grace_hours,
    )
    import uvicorn

    from medperf_core.server.app import create_app, prepare
    from medperf_core.server.storage import serving
    from medperf_core.store.backends import redact_url

    # Several workers: uvicorn's `workers=` rather than gunicorn with uvicorn workers. It needs no further
    # package (gunicorn would be one more dependency, and not on Windows), keeps the same --ssl-* and
    # --log-level options, and (uvicorn >= 0.30) restarts a worker that dies; gunicorn's extras (HUP reload,
    # max-requests) are not needed here. uvicorn spawns fresh interpreters that import the app factory
    # `app_from_env`, so the settings travel as JSON in an environment variable. The event store and the auth
    # secret are created here once, before the workers start, so that they only open what exists. `serving` is
    # held until the server stops or dies: `medperf server reset` of this log refuses meanwhile.
    with serving(settings.database or settings.data_dir):
        prepare(settings)
        application: Any
        if workers == 1:
            application, factory = create_app(settings), False
        else:
            os.environ[SETTINGS_ENV] = settings.to_json()
            application, factory = "medperf_core.server.app:app_from_env", True
        scheme = "https" if ssl_certfile else "http"
        typer.echo(
            f"medperf server on {scheme}://{host}:{port}/api/v0/ (auth {auth}, data {settings.data_dir}"
            f"{f', database {redact_url(database)}' if database else ''}"
            f"{f', {workers} workers' if workers > 1 else ''}); pages at {scheme}://{host}:{port}/ui/",
            err=True,
        )
        uvicorn.run(
            application,
            factory=factory,
            workers=workers if workers > 1 else None,
            host=host,
            port=port,
            log_level=None,
            log_config=_log_config(log_level.lower(), access_log),
            access_log=access_log,
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
            timeout_graceful_shutdown=shutdown_timeout,
        )


DatabaseOption = typer.Option(
    None,
    "--database",
    envvar="MEDPERF_DATABASE_URL",
    help="The server's database URL (default: sqlite in --data-dir), e.g. postgresql://USER@HOST/DB.",
)


def _where(database: str | None, data_dir: Path | None) -> str | Path:
    return database if database is not None else _data_dir(data_dir)


@app.command("migrate")
def migrate(database: str = DatabaseOption, data_dir: Path = DataDirOption) -> None:
    """Bring the database's schema up to date (event log migrations, read-model tables), then exit.

    A server applies them when it starts too; run this first where the server's database user may not change
    the schema, or to upgrade before starting the new version's workers."""
    from medperf_core.server.storage import open_server_storage
    from medperf_core.store.recorder import Migrates

    storage = open_server_storage(_where(database, data_dir))
    try:
        recorder = storage.store.recorder
        applied = recorder.migrations_applied if isinstance(recorder, Migrates) else None
        head = storage.store.head()
    finally:
        storage.store.close()
    if applied:
        typer.echo(f"applied {len(applied)} migrations: {', '.join(applied)}")
    typer.echo(f"✅ schema up to date ({head.position} events, read model current)")


@app.command("import")
def import_log(
    log: Path = typer.Argument(..., help="A log written by `medperf events export` (JSON lines)."),
    database: str = DatabaseOption,
    data_dir: Path = DataDirOption,
) -> None:
    """Load an exported log into a new, empty server database: the same events, state and chain head hash.

    Moving a server from SQLite to PostgreSQL: `medperf events export --server-data-dir DIR -o log.jsonl`, then
    `medperf server import --database postgresql://USER@HOST/DB log.jsonl`."""
    from medperf_core.server.storage import open_server_storage
    from medperf_core.services.audit import import_log as restore

    storage = open_server_storage(_where(database, data_dir))
    try:
        count, head = restore(storage.store, log)
    finally:
        storage.store.close()
    typer.echo(f"✅ imported {count} events; chain head {head}")


@app.command("gc-files")
def gc_files(
    data_dir: Path = DataDirOption,
    database: str = DatabaseOption,
    grace_hours: float = GraceOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list the files that would be removed."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Do not ask for confirmation."),
) -> None:
    """Remove the stored files (under --data-dir) that no registered container or benchmark references and that
    were last uploaded more than --files-grace-hours ago. The server does the same each time it starts."""
    from medperf_core.server.files_gc import collect_files
    from medperf_core.server.storage import open_server_storage

    files_dir = _data_dir(data_dir)
    storage = open_server_storage(_where(database, data_dir))
    try:
        found = collect_files(files_dir, storage.reads, grace_hours, dry_run=True)
        for stored in found:
            typer.echo(f"{stored.sha256}  {stored.size} bytes")
        plural = "s" if len(found) != 1 else ""
        if dry_run or not found:
            typer.echo(f"would remove {len(found)} file{plural}" if dry_run else "nothing to remove")
            return
        confirm(f"Remove these {len(found)} file{plural} (they cannot be restored)?", yes, destructive=True)
        removed = collect_files(files_dir, storage.reads, grace_hours)
    finally:
        storage.store.close()
    typer.echo(f"✅ removed {len(removed)} file{'s' if len(removed) != 1 else ''} "
               f"({sum(f.size for f in removed)} bytes)")


@app.command("reset")
def reset(
    database: str = DatabaseOption,
    data_dir: Path = DataDirOption,
    yes: bool = typer.Option(False, "-y", "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete the server's event log and read model (a fresh, empty database). Stop the server first.

    SQLite: deletes the database file. PostgreSQL (--database URL): drops medperf's tables and sequences in that
    database (nothing else) and creates them again, empty."""
    from medperf_core.server.storage import reset_server

    where = _where(database, data_dir)
    done = reset_server(where, confirm=lambda question: confirm(question, yes, destructive=True))
    if done is None:
        typer.echo(f"nothing to reset: no server log in {where if database is None else 'that database'}")
        return
    shown, removed = done
    typer.echo(f"✅ reset {shown} (removed {', '.join(removed) or 'nothing'})")


@app.command("seed")
def seed(
    demo: str = typer.Option(..., "--demo", help="data | benchmark | model: what the tutorial starts from."),
    data_dir: Path = DataDirOption,
    no_build: bool = typer.Option(
        False, "--no-build", help="Do not build the tutorial images (image hashes stay empty)."
    ),
    public_url: str = typer.Option(
        "http://127.0.0.1:8000",
        "--public-url",
        envvar="MEDPERF_SERVER_PUBLIC_URL",
        help="The base URL the server will be reached at: the seeded files are published under it.",
    ),
) -> None:
    """Fill an empty server with the tutorial's starting entities, as the demo users would register them."""
    from medperf_core.server.seed import DEMOS, seed_demo

    if demo not in DEMOS:
        raise UserError(f"unknown demo {demo!r}", f"use one of {', '.join(DEMOS)}")
    summary = seed_demo(
        _data_dir(data_dir), demo, build_images=not no_build, progress=typer.echo,
        public_url=_check_public_url(public_url),
    )
    for line in summary:
        typer.echo(line)
