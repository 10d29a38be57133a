"""schemathesis against the real server's OpenAPI document, every operation, with a valid token of each role and
every check (two left out, for the reasons in medperf_core/testing/fuzzing.py): no 5xx, no undocumented status,
every response as documented. Bounded in time here; `benchmarks/fuzz_api.py` runs longer."""

from __future__ import annotations

from pathlib import Path

import pytest
from _server_helpers import ROLES, Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


CONTROL = st.sampled_from([chr(c) for c in range(32) if chr(c) not in "\t\n\r"])
TEXT_FIELDS = ("name", "description", "location")  # a dataset's text fields (at most 20 characters each)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from((*TEXT_FIELDS, "user_metadata")), before=st.text(max_size=8),
       control=CONTROL, after=st.text(max_size=8), in_key=st.booleans())
def test_control_characters_anywhere_in_text_are_400(
    clients: dict[str, Client], world: dict[str, int], field: str, before: str, control: str, after: str,
    in_key: bool,
) -> None:
    """Targeted where schemathesis only happens on them: any C0 control character but tab, LF and CR, anywhere in a
    text field or in the text of a JSON field (keys too), is a 400 naming the field, on SQLite and PostgreSQL."""
    text = before + control + after
    value: object = text if field in TEXT_FIELDS else ({text: 1} if in_key else {"note": text})
    response = clients["do"].put(f"/datasets/{world['D2']}/", {field: value})
    assert response.status_code == 400, response.text[:300]
    assert list(response.json()) == [field] and "control character" in response.json()[field][0], response.text
