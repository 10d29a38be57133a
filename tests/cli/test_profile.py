"""`medperf profile ...` and `medperf auth login|logout|status` against the local backend and a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _server_helpers import run_medperf

from medperf_core.cli.main import run
from medperf_core.profiles import ProfileStore
from medperf_core.testing.server import start_server


def output(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    capsys.readouterr()
    assert run(list(args)) == code
    captured = capsys.readouterr()
    return captured.out if code == 0 else captured.err


def test_default_profile_and_lifecycle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    listing = output(capsys, "profile", "ls")
    assert "* " in listing and "local" in listing and "rest" in listing
    assert "http://127.0.0.1:8000" in output(capsys, "profile", "view")
    output(capsys, "profile", "create", "-n", "site")
    assert "already exists" in output(capsys, "profile", "create", "-n", "site", code=2)
    output(capsys, "profile", "activate", "site")
    cert = tmp_path / "ca.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    output(
        capsys,
        "profile",
        "set",
        "--server",
        "https://medperf.example.org/",
        "--platform",
        "singularity",
        "--certificate",
        str(cert),
    )
    viewed = json.loads(output(capsys, "profile", "view", "site", "-f", "json"))
    assert (viewed["server"], viewed["platform"], viewed["certificate"]) == (
        "https://medperf.example.org",
        "singularity",
        str(cert),
    )
    assert "unknown platform" in output(capsys, "profile", "set", "--platform", "vm", code=2)
    assert "unknown server backend" in output(capsys, "profile", "set", "--backend", "carrier-pigeon", code=1)
    assert "invalid server URL" in output(capsys, "profile", "set", "--server", "medperf.org", code=2)
    assert "is active" in output(capsys, "profile", "delete", "site", code=2)
    output(capsys, "profile", "activate", "local")
    output(capsys, "profile", "delete", "site")
    assert "no profile named" in output(capsys, "profile", "activate", "site", code=2)


def test_login_with_the_local_backend(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    output(capsys, "profile", "set", "--backend", "local", "--local-db", str(tmp_path / "db"))
    assert "not logged in" in output(capsys, "auth", "status")
    assert "testdo@example.com" in output(capsys, "auth", "login", "-e", "testdo@example.com")
    assert "as testdo@example.com" in output(capsys, "auth", "status")
    assert ProfileStore().active().token
    output(capsys, "auth", "logout")
    assert ProfileStore().active().token is None


def test_login_against_a_real_server(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    with start_server(tmp_path / "server", env={"MEDPERF_HOME": str(tmp_path / "server-home")}) as server:
        assert run_medperf("profile", "set", "--server", server.url, home=home).returncode == 0
        done = run_medperf("auth", "login", "-e", "testbo@example.com", home=home)
        assert done.returncode == 0, done.stderr
        status = run_medperf("auth", "status", home=home)
        assert "as testbo@example.com" in status.stdout
        assert "***" in run_medperf("profile", "view", home=home).stdout  # the token is masked
        refused = run_medperf("auth", "login", "-e", "someone@example.com", home=home)
        assert refused.returncode == 2 and "not a demo user" in refused.stderr
        bad = run_medperf("auth", "login", "--token", "bm9wZQ.00", home=home)
        assert bad.returncode == 3 and "invalid token" in bad.stderr
    gone = run_medperf("auth", "status", home=home)
    assert gone.returncode == 7 and "cannot reach the server" in gone.stderr
