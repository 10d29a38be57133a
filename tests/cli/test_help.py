"""`medperf --help` is light (no rich, no group module imported) and every help page stays complete."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer

from medperf_core.builtins.commands import GROUPS
from medperf_core.cli.main import build_app, run


def _flat(text: str) -> str:
    return " ".join(text.split())


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert run([*argv, "--help"]) == 0
    return capsys.readouterr().out


def _every_command() -> list[tuple[tuple[str, ...], Any]]:
    """(path, click command) for every command and group, loaded through click's own get_command."""
    root = typer.main.get_command(build_app())
    context = root.make_context("medperf", [], resilient_parsing=True)
    found: list[tuple[tuple[str, ...], Any]] = [((), root)]

    def walk(group: Any, path: tuple[str, ...]) -> None:
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            found.append(((*path, name), command))
            if hasattr(command, "list_commands"):
                walk(command, (*path, name))

    walk(root, ())
    return found


def test_help_imports_neither_rich_nor_any_group_module() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from medperf_core.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()): code = run(['--help'])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'markdown_it', 'attr')"
        " or m in " + repr(sorted({module for _, module, _ in GROUPS})) + "))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "0 []\n", done.stderr


def test_root_help_lists_every_group_with_its_whole_summary(capsys: pytest.CaptureFixture[str]) -> None:
    shown = _flat(_help(capsys))
    for name, _module, summary in GROUPS:
        assert f"{name} {summary}" in shown
    for option in ("--debug", "--version", "--offline", "--install-completion", "--show-completion", "-h, --help"):
        assert option in shown


def test_every_group_lists_every_command_with_its_first_paragraph(capsys: pytest.CaptureFixture[str]) -> None:
    groups = [(path, group) for path, group in _every_command() if hasattr(group, "list_commands")]
    assert len(groups) > len(GROUPS)  # the root, every built-in group
    for path, group in groups:
        shown = _flat(_help(capsys, *path))
        for name, command in group.commands.items():
            first = _flat(command.help.split("\n\n")[0]) if command.help else ""
            assert f"{name} {first}" in shown, (path, name)


def test_every_option_is_on_its_command_help_unbroken(capsys: pytest.CaptureFixture[str]) -> None:
    """Each option name whole on one line (a wrap after a hyphen printed `--data-` and `dir` on two)."""
    commands = [(path, command) for path, command in _every_command() if path]
    assert len(commands) > 50
    for path, command in commands:
        shown = _help(capsys, *path)
        assert shown.startswith(f"Usage: medperf {' '.join(path)} ")
        for parameter in command.params:
            for option in [*parameter.opts, *parameter.secondary_opts]:
                if option.startswith("-"):
                    assert option in shown, (path, option)
            if parameter.help:
                assert _flat(parameter.help) in _flat(shown), (path, parameter.name)


def test_a_group_is_imported_when_its_command_runs() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from medperf_core.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()): code = run(['profile', 'ls'])\n"
        "print(code, 'medperf_core.cli.profile' in sys.modules, 'medperf_core.cli.dataset' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "0 True False\n", done.stderr
