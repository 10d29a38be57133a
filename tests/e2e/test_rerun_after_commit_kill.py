"""A data-owner command killed right after the server committed its write, then run again: the re-run sends the
request the killed one left pending, sees that it had gone through, says so and exits 0 (not "already ...", 4).

`dataset submit`, `set_operational`, `associate` and `result submit` on the tutorial's containers (Docker) and a real
server that holds each answer back for a second after its commit (MEDPERF_SERVER_COMMIT_DELAY)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from _e2e import require_platform

from medperf_core.testing.crash_trials import (
    COMMANDS,
    EXPECT,
    Template,
    _server_types,
    kill_at_commit,
    medperf,
)
from medperf_core.testing.server import medperf_command, start_server

SAID = {
    "submit": "✅ The earlier attempt had already gone through: dataset registered with UID 1",
    "operational": "✅ The earlier attempt had already gone through: dataset 1 is operational",
    "associate": "✅ The earlier attempt had already gone through: association of dataset 1 with benchmark 1 "
                 "requested (status PENDING)",
    "result": "✅ The earlier attempt had already gone through: result b1m4d1 submitted (server UID 1)",
}


@pytest.mark.docker
def test_a_rerun_after_a_kill_at_the_commit_says_it_was_done_and_exits_0(tmp_path: Path) -> None:
    require_platform("docker")
    template = Template(tmp_path / "template")
    for command, said in SAID.items():
        stage, args = COMMANDS[command]
        event = EXPECT[command][1]
        assert event is not None
        where = tmp_path / command
        data, home = where / "server-data", where / "home"
        shutil.copytree(template.root / "stages" / stage / "server-data", data)
        shutil.copytree(template.root / "stages" / stage / "home", home)
        env = {"MEDPERF_HOME": str(template.server_home), "MEDPERF_SERVER_COMMIT_DELAY": "1.0"}
        with start_server(data, port=template.port, env=env) as server:
            assert medperf(home, template.work, "profile", "set", "--server", server.url).returncode == 0
            before = _server_types(data).count(event)
            client_env = {**os.environ, "MEDPERF_HOME": str(home)}
            assert kill_at_commit([*medperf_command(), *args], cwd=template.work, env=client_env, data=data,
                                  event=event), command
            again = medperf(home, template.work, *args)
            assert again.returncode == 0, f"{command}: {again.returncode}\n{again.stdout}\n{again.stderr}"
            assert said in again.stdout, again.stdout
            assert "sent: " in again.stderr and "❌" not in again.stderr, again.stderr
            assert _server_types(data).count(event) == before + 1, command
