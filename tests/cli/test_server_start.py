"""`medperf server start` without the server extra: one line naming what to install, a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn"])
def test_start_without_the_server_extra_names_the_package(tmp_path: Path, missing: str) -> None:
    # sys.modules[name] = None makes `import name` raise ModuleNotFoundError, as when it is not installed.
    code = f"import sys; sys.modules[{missing!r}] = None; from medperf_core.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "server", "start", "--data-dir", str(tmp_path / "data"), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MEDPERF_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"❌ Error: medperf server needs the Python package {missing!r}, which is not installed "
        "(install the server extra: pip install 'medperf[server]')"
    ]
    assert not (tmp_path / "data").exists()
