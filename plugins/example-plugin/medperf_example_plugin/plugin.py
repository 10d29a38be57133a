"""The hook implementations medperf loads through the `medperf` entry point group. Keep imports light here."""

from __future__ import annotations

from typing import Any

import typer

from medperf_core.hookspecs import hookimpl


def hello(name: str = typer.Option("world", "--name", "-n", help="Who to greet.")) -> None:
    """Say hello: proof that a third-party plugin can add commands."""
    typer.echo(f"Hello, {name}! (from medperf-example-plugin)")


@hookimpl
def medperf_register_commands(app: typer.Typer) -> None:
    app.command(name="hello")(hello)


@hookimpl
def medperf_register_runners(register: Any) -> None:
    from medperf_example_plugin.runner import ExampleRunner

    register("example", ExampleRunner)
