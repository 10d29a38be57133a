"""One error boundary: a MedperfError is one line on stderr and a non-zero exit; tracebacks with --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from medperf_core import plugins
from medperf_core.cli.main import run
from medperf_core.errors import (
    ConcurrencyError,
    IntegrityError,
    MedperfError,
    NotFoundError,
    PermissionDeniedError,
    RunnerError,
    ServerError,
    UserError,
)
from medperf_core.hookspecs import hookimpl
from medperf_core.plugins import PluginHost, build_plugin_manager

RAISED: dict[str, BaseException] = {}


class Failing:
    """A plugin whose `fail` command raises whatever the test put in RAISED."""

    @hookimpl
    def medperf_register_commands(self, app: typer.Typer) -> None:
        @app.command(name="fail")
        def fail() -> None:
            raise RAISED["error"]


@pytest.fixture(autouse=True)
def failing_command(monkeypatch: pytest.MonkeyPatch) -> None:
    pm = build_plugin_manager(load_entry_points=False)
    pm.register(Failing(), name="failing")
    monkeypatch.setattr(plugins, "_host", PluginHost(pm))


def fail_with(error: BaseException, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    RAISED["error"] = error
    capsys.readouterr()
    code = run([*flags, "fail"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MedperfError("it broke"), 1),
        (UserError("bad flag", "use --x"), 2),
        (NotFoundError("no dataset 9"), 2),
        (PermissionDeniedError("not yours"), 3),
        (ConcurrencyError("stale"), 4),
        (IntegrityError("hash mismatch"), 5),
        (RunnerError("docker is down"), 6),
        (ServerError("503"), 7),
    ],
)
def test_a_medperf_error_is_one_line_and_its_exit_code(
    error: MedperfError, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code, out, err = fail_with(error, capsys)
    assert exit_code == code != 0
    assert err == f"❌ Error: {error.one_line()}\n"
    assert out == ""


def test_the_hint_follows_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = fail_with(UserError("no such file x.yaml", "check the path"), capsys)
    assert err == "❌ Error: no such file x.yaml (check the path)\n"


def test_debug_adds_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = fail_with(UserError("bad flag"), capsys, "--debug")
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().endswith("❌ Error: bad flag")


def test_an_unexpected_exception_is_one_line_with_a_pointer_to_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = fail_with(ZeroDivisionError("division by zero"), capsys)
    assert code == 70
    assert err == (
        "❌ Error: unexpected ZeroDivisionError: division by zero (re-run with --debug for the traceback)\n"
    )


def test_an_unexpected_exception_propagates_with_debug(capsys: pytest.CaptureFixture[str]) -> None:
    RAISED["error"] = ZeroDivisionError("division by zero")
    with pytest.raises(ZeroDivisionError):
        run(["--debug", "fail"])


def test_ctrl_c_exits_130_with_a_resume_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = fail_with(KeyboardInterrupt(), capsys)
    assert code == 130
    assert err == "❌ Error: interrupted; re-run the same command to resume\n"


@pytest.mark.parametrize("argv", [["no-such-command"], ["events", "nope"], ["events", "ls", "--bogus"]])
def test_usage_errors_exit_2_with_click_message(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert "Usage: medperf" in err and "Error:" in err
    assert "Traceback" not in err and "unexpected" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from medperf_core import __version__

    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"medperf {__version__}\n"


def test_the_real_binary(tmp_path: Path) -> None:
    """The console script: one line and exit 2 for a usage problem, traceback only with --debug."""
    medperf = Path(sys.executable).with_name("medperf")
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home"), "MEDPERF_DISABLE_PLUGINS": "1"}
    missing = str(tmp_path / "missing.db")
    done = subprocess.run(
        [str(medperf), "events", "verify", "--store", missing], capture_output=True, text=True, env=env
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"❌ Error: no event store at {missing} (check the path)\n"
    debug = subprocess.run(
        [str(medperf), "--debug", "events", "verify", "--store", missing],
        capture_output=True,
        text=True,
        env=env,
    )
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    unknown = subprocess.run([str(medperf), "frobnicate"], capture_output=True, text=True, env=env)
    assert unknown.returncode == 2 and "No such command 'frobnicate'" in unknown.stderr
