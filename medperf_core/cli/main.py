"""Entry point and the one error boundary of the command line."""

from __future__ import annotations

import os
import sys

import typer

from medperf_core import __version__
from medperf_core.errors import AlreadyDone, MedperfError

DEBUG = {"on": False}
EXIT_CODES = (  # the one error boundary below turns each error class's `exit_code` into the process's
    "Exit codes: 0 done; 1 cancelled (not answered y) or interrupted; 2 bad input; 3 not signed in, not allowed, or "
    "refused by the site's policy; 4 conflicts with the server's state; 5 a log that does not verify; 6 the "
    "container engine or a container failed; 7 the server failed or cannot be reached; 9 no space left; 10 a "
    "corrupt local database; 70 a bug (run again with --debug and report it)."
)
COMPLETE_VAR = "_MEDPERF_COMPLETE"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"medperf {__version__}")
        raise typer.Exit(0)


def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
    offline: bool = typer.Option(
        False, "--offline", help="Work without the server: prepare, test, run; submissions wait for `medperf sync`."
    ),
) -> None:
    """MedPerf: benchmark medical AI models on private data that never leaves your machine."""
    DEBUG["on"] = debug
    if offline:
        os.environ["MEDPERF_OFFLINE"] = "1"


def build_app() -> typer.Typer:
    """The typer app with every plugin's commands (the built-in groups register through the same hook)."""
    from medperf_core.cli.lazy import RootGroup
    from medperf_core.plugins import get_plugin_host

    # Plain help (rich_markup_mode=None): typer's rich help imports rich and markdown-it, which took longer than
    # all the rest of `medperf --help`.
    app = typer.Typer(
        name="medperf", cls=RootGroup, no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
        rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback(epilog=EXIT_CODES)(_root)
    get_plugin_host().pm.hook.medperf_register_commands(app=app)
    return app


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"❌ Error: {message}\n")
    return code


def _click_exception() -> type[Exception]:
    """The ClickException typer raises: recent typer vendors click as `typer._click`, older uses click."""
    try:
        from typer._click import exceptions
    except ImportError:  # typer < 0.2x depends on click itself
        import click.exceptions as exceptions  # type: ignore[no-redef]
    return exceptions.ClickException


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and turn every error into one line on stderr and a non-zero exit code."""
    from medperf_core.cli.output import closed_output_tolerated

    offline = os.environ.get("MEDPERF_OFFLINE")  # --offline sets it for this command only
    try:
        # `medperf ... | head -1`: once the reader is gone the work goes on and its output is dropped.
        with closed_output_tolerated():
            return _run(argv)
    finally:
        if offline is None:
            os.environ.pop("MEDPERF_OFFLINE", None)
        else:
            os.environ["MEDPERF_OFFLINE"] = offline


def _run(argv: list[str] | None) -> int:
    click_exception = _click_exception()
    args = list(sys.argv[1:] if argv is None else argv)
    DEBUG["on"] = "--debug" in args
    try:
        # Parse and invoke directly rather than through app(): typer's main() turns Ctrl-C into a silent
        # exit 130, and every error should reach this boundary instead.
        command = typer.main.get_command(build_app())
        if COMPLETE_VAR in os.environ:  # the shell asks for completions (installed by --install-completion)
            command.main(args=args, prog_name="medperf", complete_var=COMPLETE_VAR)
        with command.make_context("medperf", args) as ctx:
            result = command.invoke(ctx)
        return int(result) if isinstance(result, int) else 0
    except AlreadyDone as e:  # an earlier, killed attempt had done it: success, said so
        typer.echo(f"✅ {e.message[:1].upper()}{e.message[1:]}")
        return 0
    except MedperfError as e:
        if DEBUG["on"]:
            import traceback

            traceback.print_exc()
        from medperf_core.failures import full_disk_behind

        e = full_disk_behind(e)
        return _fail(e.one_line(), e.exit_code)
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        return _fail("interrupted", 130)
    except click_exception as e:  # usage errors: click's own message and exit code (2)
        e.show()  # type: ignore[attr-defined]
        return int(e.exit_code)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return _fail("interrupted; re-run the same command to resume", 130)
    except Exception as e:
        from medperf_core.failures import translate

        known = translate(e)
        if known is not None and not DEBUG["on"]:
            return _fail(known.one_line(), known.exit_code)
        if DEBUG["on"]:
            raise
        return _fail(f"unexpected {type(e).__name__}: {e} (re-run with --debug for the traceback)", 70)


def main() -> None:
    sys.exit(run())
