"""Fuzz a running server's API with schemathesis (its CLI, every check) as one role, bounded in time.

`tests/server/test_fuzzing.py` runs it briefly for every role; `benchmarks/fuzz_api.py` runs it for longer.
Two checks are left out, each for a stated reason:
- `positive_data_acceptance`: a schema-valid body that names an entity that does not exist (container 0) is refused
  with 400 and a field message, as MedPerf's server does; the schema cannot say which ids exist.
- `negative_data_rejection` on `POST /files/` only: schemathesis reads the multipart file part `null` as a JSON
  null, but it is a file whose content is the four bytes "null", rightly stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from medperf_core.endpoints import endpoint

FILES_PATH = "/api/v0" + endpoint("upload_file").path


def schemathesis_command() -> list[str]:
    return [sys.executable, "-m", "schemathesis.cli"]


def fuzz(api: str, token: str | None, *, max_time: int, workdir: Path, phases: str = "fuzzing",
         max_examples: int = 10, seed: int | None = None, files: bool = True) -> list[subprocess.CompletedProcess[str]]:
    """Every operation but file uploads, then (`files`) file uploads; each run `max_time` seconds at most."""
    common = [
        f"{api}/openapi.json", "--checks", "all", "--phases", phases, "-n", str(max_examples),
        "--max-time", str(int(max_time)), "--warnings", "off", "--no-color",
        *(("-H", f"Authorization: Bearer {token}") if token else ()),
        *(("--seed", str(seed)) if seed is not None else ()),
    ]
    runs = [
        [*common, "--exclude-checks", "positive_data_acceptance", "--exclude-path", FILES_PATH],
        [*common, "--exclude-checks", "positive_data_acceptance,negative_data_rejection", "--include-path",
         FILES_PATH],
    ][: 2 if files else 1]
    workdir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.run([*schemathesis_command(), "run", *args], capture_output=True, text=True, cwd=workdir,
                       timeout=max_time * 3 + 120)
        for args in runs
    ]
