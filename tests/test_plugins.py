"""The plugin system: built-ins and entry points through the same hooks, registries, switches, and docs."""

from __future__ import annotations

import inspect
import json
import types
from collections.abc import Callable
from importlib import metadata
from typing import Any, ClassVar, TypeVar

import pluggy
import pytest
import typer

from medperf_core import hookspecs, plugins
from medperf_core.cli.main import build_app, run
from medperf_core.containers.owned_images import OwnedImage
from medperf_core.errors import PluginError, UserError
from medperf_core.hookspecs import hookimpl
from medperf_core.plugins import BUILTIN_PLUGINS, PluginHost, build_plugin_manager
from medperf_core.registry import Registry

EXAMPLE_DIST = "medperf-example-plugin"
F = TypeVar("F", bound=Callable[..., Any])
EXERCISED: dict[str, list[str]] = {}


def exercises(*hooks: str) -> Callable[[F], F]:
    """Mark a test as exercising hooks; test_every_hookspec_has_a_test checks that none is left out."""

    def mark(test: F) -> F:
        for hook in hooks:
            EXERCISED.setdefault(hook, []).append(test.__name__)
        return test

    return mark


HOOKSPECS = sorted(
    name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("medperf_")
)


class FakePlugin:
    """A plugin registering one entry of every kind under `name`."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name

    @hookimpl
    def medperf_register_runners(self, register: Registry[Any]) -> None:
        register(self.name, lambda: f"runner {self.name}")

    @hookimpl
    def medperf_register_server_backends(self, register: Registry[Any]) -> None:
        register(self.name, lambda profile: f"backend {self.name} for {profile}")

    @hookimpl
    def medperf_register_auth_providers(self, register: Registry[Any]) -> None:
        register(self.name, lambda settings: f"auth {self.name}")

    @hookimpl
    def medperf_register_event_recorders(self, register: Registry[Any]) -> None:
        register(self.name, lambda: f"recorder {self.name}")

    @hookimpl
    def medperf_register_image_owners(self, register: Registry[Any]) -> None:
        register(self.name, lambda: f"image owner {self.name}")

    @hookimpl
    def medperf_register_commands(self, app: typer.Typer) -> None:
        @app.command(name=f"{self.name}-cmd")
        def command() -> None:
            typer.echo(f"{self.name} says hi")


def host_with(*extra: object, entry_points: bool = False) -> PluginHost:
    pm = build_plugin_manager(load_entry_points=entry_points)
    for plugin in extra:
        pm.register(plugin, name=f"fake-{id(plugin)}")
    return PluginHost(pm)


def use_host(monkeypatch: pytest.MonkeyPatch, host: PluginHost) -> None:
    monkeypatch.setattr(plugins, "_host", host)


def plugins_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert run(["plugins", "--json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


# --- the factory ---


def test_the_manager_is_not_built_at_import() -> None:
    assert plugins._host is None  # the conftest resets it; importing medperf_core.* never builds it


def test_builtins_register_through_the_hooks() -> None:
    pm = build_plugin_manager(load_entry_points=False)
    names = {name for name, plugin in pm.list_name_plugin() if plugin is not None}
    assert set(BUILTIN_PLUGINS) <= names
    implemented = {
        caller.name for name in BUILTIN_PLUGINS for caller in pm.get_hookcallers(pm.get_plugin(name)) or []
    }
    assert (
        set(HOOKSPECS) - {"medperf_register_runners", "medperf_register_image_owners"} <= implemented
    )  # runners, and what cleans up after them, come from their distributions


@exercises("medperf_register_commands")
def test_builtin_commands_arrive_through_the_hook() -> None:
    use = build_app()
    names = {c.name for c in use.registered_commands} | {g.name for g in use.registered_groups}
    assert {"events", "plugins"} <= names


def test_every_plugin_is_listed_with_its_hooks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_host(monkeypatch, host_with(FakePlugin()))
    rows = {r["name"]: r for r in plugins_json(capsys)}
    assert rows["medperf_core.builtins.commands"]["distribution"] == "medperf (built-in)"
    (fake,) = [r for name, r in rows.items() if name.startswith("fake-")]
    assert fake["hooks"] == sorted(HOOKSPECS)


def test_an_unknown_hook_is_refused_by_check_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    rogue = types.ModuleType("rogue")

    @hookimpl
    def medperf_register_widgets(register: Any) -> None:
        """Not a medperf hook."""

    rogue.medperf_register_widgets = medperf_register_widgets  # type: ignore[attr-defined]

    def load(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        self.register(rogue, name="rogue")
        return 1

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", load)
    with pytest.raises(PluginError, match="plugin 'rogue' implements an unknown hook"):
        build_plugin_manager(load_entry_points=True)


def test_a_plugin_that_fails_to_import_names_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(self: pluggy.PluginManager, group: str, name: str | None = None) -> int:
        raise ImportError("No module named 'medperf_broken'")

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", load)
    with pytest.raises(PluginError, match="medperf_broken") as info:
        build_plugin_manager(load_entry_points=True)
    assert info.value.hint is not None and "MEDPERF_DISABLE_PLUGINS=1" in info.value.hint
    monkeypatch.setenv("MEDPERF_DISABLE_PLUGINS", "1")
    build_plugin_manager()  # the advertised way out works


# --- registries ---


@exercises("medperf_register_runners", "medperf_register_server_backends", "medperf_register_auth_providers")
def test_hooks_fill_the_registries() -> None:
    host = host_with(FakePlugin())
    assert host.runners.get("fake")() == "runner fake"
    assert host.server_backends.get("fake")("p") == "backend fake for p"
    assert host.auth_providers.get("fake")({}) == "auth fake"


class FakeImages:
    """An `ImageOwner`: two images on a pretend engine; the pulled one is refused on removal."""

    removed: ClassVar[list[str]] = []

    def owned_images(self) -> list[OwnedImage]:
        return [OwnedImage("sha256:aa", ("fake/a:1",), 10, remove_by="sha256:aa"),
                OwnedImage("sha256:bb", ("fake/b:1",), 20, remove_by="fake/b:1", how="pulled")]

    def remove(self, image: OwnedImage) -> str | None:
        FakeImages.removed.append(image.remove_by)
        return "a container uses it" if image.how == "pulled" else None


class ImageOwnerPlugin:
    @hookimpl
    def medperf_register_image_owners(self, register: Registry[Any]) -> None:
        register("fake", FakeImages)


@exercises("medperf_register_image_owners")
def test_storage_lists_and_removes_images_only_through_the_registered_image_owners(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from medperf_core.services import storage

    use_host(monkeypatch, host_with(ImageOwnerPlugin()))  # no entry points: the Docker runner's owner is absent
    FakeImages.removed.clear()
    entries = storage.image_entries({"bb"})
    assert [(e.name, e.status, e.image_owner) for e in entries] == [("fake/a:1", "unused", "fake"),
                                                                   ("fake/b:1", "kept", "fake")]
    assert entries[1].note == "Fake image pulled by medperf"
    said: list[str] = []
    assert storage.remove(entries, said.append) == 10
    assert FakeImages.removed == ["sha256:aa", "fake/b:1"]
    assert said[0].startswith("removed image fake/a:1") and said[1] == "left image fake/b:1: a container uses it"


@pytest.mark.parametrize(
    ("registry", "kind"),
    [("runners", "runner"), ("server_backends", "server backend"), ("auth_providers", "auth provider")],
)
@exercises("medperf_register_runners", "medperf_register_server_backends", "medperf_register_auth_providers")
def test_duplicate_names_are_rejected_with_a_clear_message(registry: str, kind: str) -> None:
    host = host_with(FakePlugin("dup"), FakePlugin("dup"))
    with pytest.raises(PluginError, match=f"{kind} 'dup' is registered twice") as info:
        getattr(host, registry)
    assert info.value.hint is not None and "MEDPERF_BLOCK_PLUGINS" in info.value.hint


@pytest.mark.parametrize("registry", ["runners", "server_backends", "auth_providers"])
def test_an_unknown_name_lists_the_known_ones(registry: str) -> None:
    host = host_with(FakePlugin("alpha"), FakePlugin("beta"))
    with pytest.raises(PluginError, match=r"unknown .* 'gamma'") as info:
        getattr(host, registry).get("gamma")
    assert info.value.hint is not None and "alpha, beta" in info.value.hint


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "dot.ted"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(PluginError, match="invalid runner name"):
        Registry[Any]("runner")(name, object)


def test_registry_lists_names_sorted() -> None:
    registry: Registry[int] = Registry("thing")
    registry("b", 2)
    registry("a-1", 1)
    assert registry.names() == ["a-1", "b"] == list(registry)
    assert "b" in registry and "c" not in registry


# --- environment switches ---


def test_disable_plugins_skips_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    require_example_plugin()
    monkeypatch.setenv("MEDPERF_DISABLE_PLUGINS", "1")
    pm = build_plugin_manager()
    assert pm.get_plugin("example") is None
    assert {name for name, p in pm.list_name_plugin() if p is not None} == set(BUILTIN_PLUGINS)


def test_block_plugins_blocks_one(monkeypatch: pytest.MonkeyPatch) -> None:
    require_example_plugin()
    monkeypatch.setenv("MEDPERF_BLOCK_PLUGINS", "example, medperf_core.builtins.auth")
    pm = build_plugin_manager()
    assert pm.is_blocked("example") and pm.get_plugin("example") is None
    assert pm.get_plugin("medperf_core.builtins.auth") is None
    assert pm.get_plugin("medperf_core.builtins.commands") is not None


def test_trace_plugins_writes_hook_calls_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDPERF_TRACE_PLUGINS", "1")
    monkeypatch.setenv("MEDPERF_DISABLE_PLUGINS", "1")
    assert run(["plugins"]) == 0
    err = capsys.readouterr().err
    assert "[plugins]" in err and "medperf_register_commands" in err


def test_without_trace_nothing_is_written_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plugins"]) == 0
    assert capsys.readouterr().err == ""


# --- hookspecs are documented and tested ---


@pytest.mark.parametrize("hook", HOOKSPECS)
def test_every_hookspec_is_documented(hook: str) -> None:
    spec = getattr(hookspecs, hook)
    doc = inspect.getdoc(spec) or ""
    assert doc.splitlines()[0].strip(), f"{hook} needs a one-line summary"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc, f"{hook} does not document :param {parameter}:"
    assert (
        spec.__annotations__.get("return") in ("None", None.__class__, None)
        or "return" in spec.__annotations__
    )


@pytest.mark.parametrize("hook", HOOKSPECS)
def test_every_hookspec_has_a_test(hook: str) -> None:
    assert EXERCISED.get(hook), f"add a test marked @exercises({hook!r}) in tests/test_plugins.py"


# --- the example third-party plugin ---


def require_example_plugin() -> metadata.Distribution:
    try:
        return metadata.distribution(EXAMPLE_DIST)
    except metadata.PackageNotFoundError:
        pytest.fail(
            f"{EXAMPLE_DIST} is not installed: run `pip install -e plugins/example-plugin` (CONTRIBUTING.md)"
        )


def test_the_example_plugin_is_installed_with_a_medperf_entry_point() -> None:
    dist = require_example_plugin()
    (entry_point,) = [ep for ep in dist.entry_points if ep.group == "medperf"]
    assert (entry_point.name, entry_point.value) == ("example", "medperf_example_plugin.plugin")


def test_the_example_plugin_shows_in_medperf_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    dist = require_example_plugin()
    rows = {r["name"]: r for r in plugins_json(capsys)}
    assert rows["example"] == {
        "name": "example",
        "distribution": EXAMPLE_DIST,
        "version": dist.version,
        "hooks": ["medperf_register_commands", "medperf_register_event_recorders", "medperf_register_runners"],
        "provides": {"runners": ["example"], "event_recorders": ["memory"]},
    }


@exercises("medperf_register_commands")
def test_medperf_hello_comes_from_the_example_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    require_example_plugin()
    assert run(["hello", "--name", "Ada"]) == 0
    assert capsys.readouterr().out == "Hello, Ada! (from medperf-example-plugin)\n"


@exercises("medperf_register_runners")
def test_the_example_runner_is_registered() -> None:
    require_example_plugin()
    from medperf_core.containers.runner import Runner

    runner = plugins.get_plugin_host().runners.get("example")()
    assert isinstance(runner, Runner) and runner.name == "example"


def test_a_blocked_example_plugin_disappears(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_example_plugin()
    monkeypatch.setenv("MEDPERF_BLOCK_PLUGINS", "example")
    assert "example" not in {r["name"] for r in plugins_json(capsys)}
    plugins.reset_plugin_host()
    assert run(["hello"]) == 2
    assert "No such command 'hello'" in capsys.readouterr().err
    assert "example" not in plugins.get_plugin_host().runners


@exercises("medperf_register_event_recorders")
def test_event_recorders_are_chosen_by_the_urls_scheme() -> None:
    from medperf_core.store.backends import backend_for, parse_url
    from medperf_core.store.sqlite.backend import SQLiteBackend

    host = host_with(FakePlugin("tape"))
    assert host.event_recorders.names() == ["postgres", "postgresql", "sqlite", "tape"]
    backend, location = backend_for("tape:///var/log/medperf", host)
    assert (backend, location) == ("recorder tape", "/var/log/medperf")
    sqlite, path = backend_for("/srv/medperf/events.db", host)  # a plain path means SQLite
    assert isinstance(sqlite, SQLiteBackend) and path == "/srv/medperf/events.db"
    assert parse_url("sqlite:///srv/events.db") == ("sqlite", "/srv/events.db")
    assert parse_url("postgresql://medperf@db:5432/medperf") == ("postgresql", "medperf@db:5432/medperf")
    with pytest.raises(UserError) as refused:
        backend_for("mysql://db/medperf", host)
    assert "no event recorder for 'mysql'" in refused.value.message
    assert "known: postgres, postgresql, sqlite, tape" in (refused.value.hint or "")


def test_plugins_json_names_what_each_plugin_provides(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_host(monkeypatch, host_with(FakePlugin("tape")))
    rows = {r["name"]: r for r in plugins_json(capsys)}
    recorders = {"event_recorders": ["postgres", "postgresql", "sqlite"]}
    assert rows["medperf_core.builtins.recorders"]["provides"] == recorders
    assert rows["medperf_core.builtins.backends"]["provides"] == {"server_backends": ["local", "rest"]}
    (fake,) = [r for name, r in rows.items() if name.startswith("fake-")]
    assert fake["provides"] == {
        "runners": ["tape"], "server_backends": ["tape"], "auth_providers": ["tape"], "event_recorders": ["tape"],
        "image_owners": ["tape"],
    }
