"""schemathesis against the real server's OpenAPI document, every operation, with a valid token of each role and
every check (two left out, for the reasons in medperf_core/testing/fuzzing.py): no 5xx, no undocumented status,
every response as documented. Bounded in time here; `benchmarks/fuzz_api.py` runs longer."""

from __future__ import annotations

from pathlib import Path

import pytest
from _server_helpers import ROLES

from medperf_core.testing.fuzzing import fuzz
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess

pytest.importorskip("schemathesis")

# seconds per role: the data owner and the benchmark owner write the most; the others mostly read or are refused
SECONDS = {"do": 10, "bo": 8, "mo": 5, "admin": 5, "anon": 3}


@pytest.mark.parametrize("role", ROLES)
def test_fuzzing_finds_nothing(server: ServerProcess, world: dict[str, int], role: str, tmp_path: Path) -> None:
    token = server.token(DEMO_EMAILS[role]) if role != "anon" else None
    runs = fuzz(server.api, token, max_time=SECONDS[role], workdir=tmp_path, max_examples=8, seed=13,
                files=role == "do")
    for run in runs:
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "Tested:" in run.stdout, run.stdout[-2000:]
    assert "Traceback" not in server.log(), server.log()[-3000:]
