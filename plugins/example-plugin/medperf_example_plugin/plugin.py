"""The hook implementations medperf loads through the `medperf` entry point group. Keep imports light here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from medperf_core import hookimpl

if TYPE_CHECKING:
    from medperf_core.hookspecs import EventStoreFactory, RunnerFactory
    from medperf_core.registry import Registry


def hello(name: str = typer.Option("world", "--name", "-n", help="Who to greet.")) -> None:
    """Say hello: proof that a third-party plugin can add commands."""
    typer.echo(f"Hello, {name}! (from medperf-example-plugin)")


@hookimpl
def medperf_register_commands(app: typer.Typer) -> None:
    app.command(name="hello")(hello)


@hookimpl
def medperf_register_runners(register: Registry[RunnerFactory]) -> None:
    from medperf_example_plugin.runner import ExampleRunner

    register("example", ExampleRunner)


@hookimpl
def medperf_register_event_recorders(register: Registry[EventStoreFactory]) -> None:
    from medperf_example_plugin.recorder import MemoryBackend

    register("memory", MemoryBackend)
