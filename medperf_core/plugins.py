"""The plugin-manager factory: built-ins and entry points of group `medperf`, through the same hooks."""

from __future__ import annotations

import importlib
import os
import sys
from functools import cached_property
from importlib import metadata
from typing import Any

import pluggy

from medperf_core import hookspecs
from medperf_core.errors import PluginError
from medperf_core.hookspecs import (
    AuthProviderFactory,
    EventStoreFactory,
    ImageOwnerFactory,
    RunnerFactory,
    ServerBackendFactory,
)
from medperf_core.registry import Registry

# Each registry: the attribute of PluginHost, its hook, and what `medperf plugins` calls its entries.
REGISTRY_HOOKS: tuple[tuple[str, str, str], ...] = (
    ("runners", "medperf_register_runners", "runner"),
    ("server_backends", "medperf_register_server_backends", "server backend"),
    ("auth_providers", "medperf_register_auth_providers", "auth provider"),
    ("event_recorders", "medperf_register_event_recorders", "event recorder"),
    ("image_owners", "medperf_register_image_owners", "image owner"),
)

ENTRY_POINT_GROUP = "medperf"
DISABLE_ENV = "MEDPERF_DISABLE_PLUGINS"  # "1": load no third-party entry points
BLOCK_ENV = "MEDPERF_BLOCK_PLUGINS"  # comma-separated plugin names to block
TRACE_ENV = "MEDPERF_TRACE_PLUGINS"  # "1": print every hook call to stderr

BUILTIN_PLUGINS: tuple[str, ...] = (
    "medperf_core.builtins.commands",
    "medperf_core.builtins.backends",
    "medperf_core.builtins.auth",
    "medperf_core.builtins.recorders",
)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def blocked_plugins() -> set[str]:
    return {n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip()}


def build_plugin_manager(*, load_entry_points: bool | None = None) -> pluggy.PluginManager:
    """Build a fresh plugin manager: specs, blocks, entry points, built-ins, validation."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in blocked_plugins():
        pm.set_blocked(name)
    if load_entry_points is None:
        load_entry_points = not _env_flag(DISABLE_ENV)
    if load_entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as e:  # a broken third-party plugin must name itself
            raise PluginError(
                f"a medperf plugin failed to load: {e}", f"set {DISABLE_ENV}=1 to start without plugins"
            ) from e
    for module_name in BUILTIN_PLUGINS:
        if pm.is_blocked(module_name):
            continue
        pm.register(importlib.import_module(module_name), name=module_name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        name = pm.get_name(e.plugin) or repr(e.plugin)
        raise PluginError(
            f"plugin {name!r} implements an unknown hook: {e}", "update or remove the plugin"
        ) from e
    if _env_flag(TRACE_ENV):
        pm.trace.root.setwriter(lambda message: sys.stderr.write(f"[plugins] {message}"))
        pm.enable_tracing()
    return pm


class PluginHost:
    """The loaded plugins and the registries their hooks filled, built once per process on demand."""

    # A plain class, not attrs: `medperf --help` builds one, and importing attrs was a tenth of its time.
    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def _fill(self, kind: str, hook: Any) -> Registry[Any]:
        registry: Registry[Any] = Registry(kind)
        hook(register=registry)
        return registry

    @cached_property
    def runners(self) -> Registry[RunnerFactory]:
        return self._fill("runner", self.pm.hook.medperf_register_runners)

    @cached_property
    def server_backends(self) -> Registry[ServerBackendFactory]:
        return self._fill("server backend", self.pm.hook.medperf_register_server_backends)

    @cached_property
    def auth_providers(self) -> Registry[AuthProviderFactory]:
        return self._fill("auth provider", self.pm.hook.medperf_register_auth_providers)

    @cached_property
    def event_recorders(self) -> Registry[EventStoreFactory]:
        return self._fill("event recorder", self.pm.hook.medperf_register_event_recorders)

    @cached_property
    def image_owners(self) -> Registry[ImageOwnerFactory]:
        return self._fill("image owner", self.pm.hook.medperf_register_image_owners)

    def provided_by(self, plugin: object) -> dict[str, list[str]]:
        """What one plugin registers, per registry (its hook implementations called on their own)."""
        provided: dict[str, list[str]] = {}
        for attribute, hook_name, kind in REGISTRY_HOOKS:
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    own: Registry[Any] = Registry(kind)
                    impl.function(register=own)
                    provided[attribute] = own.names()
        return provided

    def describe(self) -> list[dict[str, Any]]:
        """Each registered plugin with its distribution, version and the hooks it implements."""
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        rows = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda item: item[0]):
            if plugin is None:
                continue
            dist = dists.get(id(plugin))
            hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])
            rows.append(
                {
                    "name": name,
                    "distribution": dist.project_name if dist else "medperf (built-in)",
                    "version": dist.version if dist else metadata.version("medperf"),
                    "hooks": hooks,
                    "provides": self.provided_by(plugin),
                }
            )
        return rows


_host: PluginHost | None = None


def get_plugin_host() -> PluginHost:
    """The process-wide plugin host, built on first use (never at import)."""
    global _host
    if _host is None:
        _host = PluginHost(build_plugin_manager())
    return _host


def reset_plugin_host() -> None:
    global _host
    _host = None
