"""Plain-text help: whole summaries in command lists, and lines that never break inside a hyphenated word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:
    from typer._click import Context, HelpFormatter
except ImportError:  # typer before 0.20 depends on click itself
    from click import Context, HelpFormatter  # type: ignore[assignment]

# Stands for "-" while a text is wrapped: the wrapper breaks lines after hyphens, which split option names
# (`--data-` / `dir`); a NUL is neither a hyphen nor a space, and never part of help text.
_HYPHEN = "\x00"


class PlainHelpFormatter(HelpFormatter):
    """Click's formatter, with hyphens kept inside the words they join."""

    def write(self, string: str) -> None:
        super().write(string.replace(_HYPHEN, "-"))

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args.replace("-", _HYPHEN), prefix)

    def write_text(self, text: str) -> None:
        super().write_text(text.replace("-", _HYPHEN))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        kept = [(term.replace("-", _HYPHEN), text.replace("-", _HYPHEN)) for term, text in rows]
        super().write_dl(kept, col_max, col_spacing)


class PlainHelpContext(Context):
    formatter_class = PlainHelpFormatter


def plain_help(command: Any) -> None:
    """Format the help of `command` and its subcommands with `PlainHelpFormatter`, and give each its help's whole
    first paragraph as the summary a group lists (click would cut it to fit one line, mid-sentence)."""
    command.context_class = PlainHelpContext
    if command.short_help is None and command.help:
        first = command.help.split("\n\n", 1)[0].replace("\b", " ")
        command.short_help = " ".join(first.split())
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
