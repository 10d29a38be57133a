"""The data owner's world for the service tests (see _owner_world.py)."""

from _owner_world import world

__all__ = ["world"]
