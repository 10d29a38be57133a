"""Named registries that hooks fill: runners, server backends, auth providers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from medperf_core.errors import PluginError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → factory map that refuses duplicates and names the known entries for unknown lookups."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def __call__(self, name: str, factory: T) -> None:
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise PluginError(f"invalid {self.kind} name {name!r}", "use letters, digits, '-' or '_'")
        if name in self._entries:
            raise PluginError(
                f"{self.kind} {name!r} is registered twice",
                "block one of the plugins with MEDPERF_BLOCK_PLUGINS=<plugin name>",
            )
        self._entries[name] = factory

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise PluginError(
                f"unknown {self.kind} {name!r}", f"known: {known}; install the plugin that provides it"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
