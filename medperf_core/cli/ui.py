"""Small rendering helpers shared by the command groups: confirmations, tables, JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import typer

from medperf_core.errors import CancelledError, UserError

YES_ANSWERS = frozenset({"y", "yes"})


def confirm(question: str, yes: bool, *, destructive: bool = False) -> None:
    """Ask before something that sends data off the machine or cannot be undone; CancelledError unless answered yes.

    The default is No: only `y` or `yes` (typed, or piped as in `echo y | medperf ...`) goes on; Enter, anything
    else and the end of input cancel; `-y` (`yes`) answers yes in advance. A `destructive` question is never
    answered from a pipe or a file: without a terminal on stdin it needs -y (a script that deletes says so)."""
    if yes:
        return
    interactive = sys.stdin.isatty()
    if destructive and not interactive:
        raise UserError(f"{question.rstrip('?')}: refused, there is no terminal to confirm on",
                        "pass -y to confirm from a script")
    typer.echo(f"{question} [y/N]: ", nl=False)
    line = sys.stdin.readline()
    if not interactive:
        typer.echo(line.rstrip("\r\n"))  # a piped answer is not echoed by a terminal: show it in the transcript
    elif not line:
        typer.echo()  # Ctrl-D: end the question's line
    if line.strip().lower() not in YES_ANSWERS:
        raise CancelledError("cancelled by the user: nothing was sent or removed", "answer y, or pass -y, to go on")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A rich table in the style MedPerf prints: header, a line of dashes, left-aligned columns, nothing wrapped.

    Lines are never wrapped or cut (scripts grep them); the header is bold on a terminal.
    """
    from io import StringIO

    # Imported here: `medperf --help` and the commands that print no table do not pay for rich.
    from rich import box
    from rich.console import Console
    from rich.table import Table

    dashes = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)
    rendered = Table(box=dashes, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    for header in headers:
        rendered.add_column(header, no_wrap=True, overflow="ignore")
    for row in rows:
        rendered.add_row(*("" if v is None else str(v) for v in row))
    out = StringIO()
    console = Console(file=out, width=1 << 16, force_terminal=sys.stdout.isatty(), soft_wrap=False, highlight=False)
    console.print(rendered, markup=False)
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").splitlines())


JSON_HELP = "Print JSON (for scripts)."


FORMATS = ("yaml", "json")


def view_format(fmt: str, as_json: bool) -> str:
    """`--json` on a view command is `--format json`; a format other than yaml or json is refused."""
    if as_json:
        return "json"
    if fmt.lower() not in FORMATS:
        from medperf_core.errors import UserError

        raise UserError(f"unknown format {fmt!r}", "use --format yaml or --format json (or --json)")
    return fmt.lower()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def dump(value: Any, fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(value, indent=2, sort_keys=True, default=str)
    import yaml

    return str(yaml.safe_dump(value, sort_keys=False, default_flow_style=False))


def queued(client: object, error: Exception) -> bool:
    """Offline, a submission recorded to be sent later is success: say so (True). Otherwise the caller re-raises."""
    if not getattr(client, "offline", False):
        return False
    import typer

    hint = getattr(error, "hint", None)
    typer.echo(f"⏳ {getattr(error, 'message', error)}" + (f" ({hint})" if hint else ""))
    return True
