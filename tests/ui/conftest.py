"""tests/ui: a real server for the module, a benchmark with results from two sites, and a headless Chromium."""

from _server_helpers import clients, server
from _ui_world import world_of_sites

__all__ = ["clients", "server", "world_of_sites"]
