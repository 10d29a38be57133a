"""Where local state lives: everything of one user under MEDPERF_HOME (default ~/.medperf)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MEDPERF_HOME"


def medperf_home() -> Path:
    """The root of all local state; created on first use."""
    root = Path(os.environ.get(HOME_ENV) or Path.home() / ".medperf").expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root
