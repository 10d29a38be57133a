"""Built-in auth providers: `local` (tutorial demo users) and `jwt` (RS256 tokens)."""

from __future__ import annotations

from typing import Any

from medperf_core.hookspecs import hookimpl


@hookimpl
def medperf_register_auth_providers(register: Any) -> None:
    """Filled in by the server work (issue 4)."""
