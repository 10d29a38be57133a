"""Built-in server backends: `rest` (HTTP) and `local` (the server's services in-process)."""

from __future__ import annotations

from typing import Any

from medperf_core.hookspecs import hookimpl


@hookimpl
def medperf_register_server_backends(register: Any) -> None:
    """Filled in by the server work (issue 4)."""
