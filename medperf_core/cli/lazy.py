"""Command groups imported on first use: `medperf --help` lists the built-in groups without importing them."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from medperf_core.cli.plain_help import PlainHelpContext, plain_help


class LazyGroup(TyperGroup):
    """Stands in for a built-in group until a command line names it; `load()` builds the real one.

    Subclassed once per module by `lazy_typer` (typer builds a group from its class alone), so `module_name`
    says which module's `app` this group is."""

    module_name = ""

    def load(self) -> Any:
        """The group typer builds from `module_name`'s `app`, with this placeholder's name, help and markup mode."""
        module = importlib.import_module(self.module_name)
        wrapper = typer.Typer(add_completion=False, rich_markup_mode=self.rich_markup_mode)
        wrapper.add_typer(module.app, name=self.name, help=self.help)
        parent: Any = typer.main.get_command(wrapper)
        group = parent.commands[self.name]
        plain_help(group)
        return group


def lazy_typer(module_name: str) -> typer.Typer:
    """A typer app whose group is a `LazyGroup` for `module_name`: add it with `add_typer(..., name=, help=)`."""
    placeholder = type(f"LazyGroup[{module_name}]", (LazyGroup,), {"module_name": module_name})
    return typer.Typer(cls=placeholder)


class RootGroup(TyperGroup):
    """The `medperf` group: loads a lazy group when a command line names it, lists every group without loading."""

    context_class = PlainHelpContext

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            plain_help(command)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, LazyGroup):
            command = self.commands[cmd_name] = command.load()
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Click's own asks get_command for each summary, which would load every group; a placeholder's help is the
        # group's summary already.
        rows = [
            (name, command.get_short_help_str())
            for name in self.list_commands(ctx)
            if (command := self.commands.get(name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

