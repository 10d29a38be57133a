"""Built-in command groups. Each is a module of medperf_core.cli exposing a typer app named `app`."""

from __future__ import annotations

import importlib

import typer

from medperf_core.cli.lazy import lazy_typer
from medperf_core.hookspecs import hookimpl

# (group name, module, help). A group's module is imported when a command line names the group (`medperf --help`
# lists the groups from this help alone); still, keep heavy imports inside the commands.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("events", "medperf_core.cli.events", "Audit the client's event log: list, verify, replay, export."),
    ("server", "medperf_core.cli.server", "Run, reset and seed a medperf server."),
    ("profile", "medperf_core.cli.profile", "Server profiles: which server, backend and platform to use."),
    ("auth", "medperf_core.cli.auth", "Log in to the active profile's server, log out, show who you are."),
    ("benchmark", "medperf_core.cli.benchmark", "Benchmarks: list, view, submit, associate, approve, run every model."),
    ("dataset", "medperf_core.cli.dataset", "Your datasets: submit, prepare, set operational, associate."),
    ("association", "medperf_core.cli.association", "Associations with benchmarks: list, approve, reject, priority."),
    ("result", "medperf_core.cli.result", "Results computed here: list, view, submit."),
    ("container", "medperf_core.cli.container", "Containers: list, view, submit, associate with a benchmark."),
    ("mlcube", "medperf_core.cli.container", "Alias of `container` (MedPerf's former name)."),
    ("policy", "medperf_core.cli.policy", "The site's policy: which containers may run next to your data."),
    ("storage", "medperf_core.cli.storage", "What medperf keeps on this machine, with sizes; free what is not needed."),
    ("test", "medperf_core.cli.testing", "Compatibility tests: run a preparator, a model and metrics locally."),
    ("tutorial", "medperf_core.cli.tutorial", "Tutorial scaffolding: toy data and container images."),
)

# Single commands at the top level: (module, function name, command name).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("medperf_core.cli.plugins", "plugins", "plugins"),
    ("medperf_core.cli.sync", "sync", "sync"),
)


@hookimpl
def medperf_register_commands(app: typer.Typer) -> None:
    for name, module_name, help_text in GROUPS:
        app.add_typer(lazy_typer(module_name), name=name, help=help_text)
    for module_name, function, command_name in COMMANDS:
        module = importlib.import_module(module_name)
        app.command(name=command_name)(getattr(module, function))
