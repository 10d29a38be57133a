"""Every `ls` and `view` command takes `--json`; shell completion is installable and answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from medperf_core.cli.main import build_app, run


def _commands(group: Any, context: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Through click's get_command, which imports a built-in group's module (`--help` lists them unimported)."""
    found = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if hasattr(command, "commands"):
            found += _commands(command, context, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


def test_every_ls_and_view_command_takes_json() -> None:
    root = typer.main.get_command(build_app())
    context = root.make_context("medperf", [], resilient_parsing=True)
    listed = [(path, cmd) for path, cmd in _commands(root, context) if path[-1] in ("ls", "view")]
    assert len(listed) >= 10  # benchmark, dataset, container, result, association, profile, events, storage ...
    missing = [" ".join(path) for path, cmd in listed if not any("--json" in p.opts for p in cmd.params)]
    assert missing == []


def test_profile_ls_and_view_print_json(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["profile", "ls", "--json"]) == 0
    profiles = json.loads(capsys.readouterr().out)
    assert [(p["name"], p["active"]) for p in profiles] == [("local", True)]
    assert run(["profile", "view", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["server"] == "http://127.0.0.1:8000"


def _medperf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from medperf_core.cli.main import main; sys.argv[0] = 'medperf'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)


def test_completion_script_and_answers() -> None:
    shown = _medperf({"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}, "--show-completion", "bash")
    assert shown.returncode == 0, shown.stderr
    assert "_MEDPERF_COMPLETE=complete_bash" in shown.stdout
    groups = _medperf({"_MEDPERF_COMPLETE": "complete_bash", "COMP_WORDS": "medperf data", "COMP_CWORD": "1"})
    assert groups.returncode == 0 and groups.stdout.split() == ["dataset"]
    commands = _medperf({"_MEDPERF_COMPLETE": "complete_bash", "COMP_WORDS": "medperf storage ", "COMP_CWORD": "2"})
    assert set(commands.stdout.split()) >= {"ls", "cleanup"}


def test_install_completion_then_bash_completes(tmp_path: Path) -> None:
    """`medperf --install-completion` in a fresh HOME, then a real bash reads its rc and completes."""
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    home.mkdir()
    shim = bin_dir / "medperf"  # the installed entry point, whatever this test's interpreter is
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; from medperf_core.cli.main import main; "
                    f"sys.argv[0] = \"medperf\"; main()' \"$@\"\n")
    shim.chmod(0o755)
    env = {**os.environ, "HOME": str(home), "SHELL": "/bin/bash", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    installed = subprocess.run(["medperf", "--install-completion"], env=env, capture_output=True, text=True,
                               timeout=60)
    assert installed.returncode == 0, installed.stderr
    assert "bash completion installed" in installed.stdout
    assert ".bash_completions/medperf.sh" in (home / ".bashrc").read_text()
    script = ("source ~/.bashrc; COMP_WORDS=(medperf stor); COMP_CWORD=1; _medperf_completion medperf; "
              "echo \"${COMPREPLY[*]}\"; COMP_WORDS=(medperf dataset ex); COMP_CWORD=2; "
              "_medperf_completion medperf; echo \"${COMPREPLY[*]}\"")
    answered = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert answered.stdout.split("\n")[:2] == ["storage", "export"], answered.stderr
