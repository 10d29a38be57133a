"""Server backends: how the client reaches a server (HTTP `rest`, or in-process `local`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medperf_core.backends.base import ServerBackend
    from medperf_core.plugins import PluginHost
    from medperf_core.profiles import Profile


def get_backend(profile: Profile | None = None, host: PluginHost | None = None) -> ServerBackend:
    """The server backend of a profile (default: the active one), built by the plugin that registered its name."""
    from medperf_core.plugins import get_plugin_host
    from medperf_core.profiles import ProfileStore

    profile = profile or ProfileStore().active()
    backend: ServerBackend = (host or get_plugin_host()).server_backends.get(profile.backend)(profile)
    return backend
