"""The CLI against the real server of tests/_server_helpers.py (started only by the tests that use it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _server_helpers import clients, server

from medperf_core.cli.main import run
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess

__all__ = ["clients", "server"]

Medperf = Callable[..., tuple[int, str, str]]


@pytest.fixture
def medperf(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Medperf:
    """medperf(role, *args) → (exit code, stdout, stderr) of the CLI in process, logged in as the demo `role`."""

    def call(role: str, *args: str) -> tuple[int, str, str]:
        home = tmp_path / f"home-{role}"
        monkeypatch.setenv("MEDPERF_HOME", str(home))
        if not home.exists():
            assert run(["profile", "set", "--server", server.url]) == 0
            assert run(["auth", "login", "-e", DEMO_EMAILS[role]]) == 0
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call
