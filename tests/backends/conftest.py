"""The session's real server and its clients (see tests/_server_helpers.py)."""

from _server_helpers import clients, server, world

__all__ = ["clients", "server", "world"]
