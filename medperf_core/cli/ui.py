"""Small rendering helpers shared by the command groups: confirmations, tables, JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import typer

from medperf_core.errors import CancelledError


def confirm(question: str, yes: bool) -> None:
    """Ask; `-y` answers yes. Without a terminal and without -y, refuse rather than guess."""
    if yes:
        return
    if not sys.stdin.isatty():
        answer = sys.stdin.readline().strip().lower()
        typer.echo(f"{question} [Y/n]: {answer}")
    else:
        answer = typer.prompt(f"{question} [Y/n]", default="y", show_default=False).strip().lower()
    if answer not in {"", "y", "yes"}:
        raise CancelledError("operation cancelled by the user")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain text table in the style MedPerf prints (header, dashes, left-aligned columns)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def dump(value: Any, fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(value, indent=2, sort_keys=True, default=str)
    import yaml

    return str(yaml.safe_dump(value, sort_keys=False, default_flow_style=False))
