"""`medperf plugins`: every loaded plugin with its distribution, version and hooks."""

from __future__ import annotations

import typer

from medperf_core.cli.ui import print_json, table


def plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """List the loaded plugins, their versions and the hooks each implements."""
    from medperf_core.plugins import get_plugin_host

    host = get_plugin_host()
    rows = host.describe()
    if as_json:
        print_json(rows)
        return
    def provides(row: dict[str, list[str]]) -> str:
        return "; ".join(f"{kind.replace('_', ' ')}: {', '.join(names)}" for kind, names in row.items() if names)

    typer.echo(table([[r["name"], r["distribution"], r["version"], ", ".join(r["hooks"]), provides(r["provides"])]
                      for r in rows], ["plugin", "distribution", "version", "hooks", "provides"]))
