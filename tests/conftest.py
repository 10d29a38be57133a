"""Shared fixtures: an isolated MEDPERF_HOME per test, and the check that every event written validates."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medperf_core.plugins import reset_plugin_host

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def medperf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own MEDPERF_HOME, no plugin switches from the caller, and a fresh plugin host."""
    home = tmp_path / "medperf-home"
    monkeypatch.setenv("MEDPERF_HOME", str(home))
    for name in (
        "MEDPERF_PROFILE",
        "MEDPERF_DISABLE_PLUGINS",
        "MEDPERF_BLOCK_PLUGINS",
        "MEDPERF_TRACE_PLUGINS",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_plugin_host()
    yield home
    reset_plugin_host()


# --- event catalog: every payload mapped during the session must validate against events/<type>/v<n> ---

RECORDED_PAYLOADS: list[tuple[str, int, dict[str, Any]]] = []


def _collect_payloads() -> None:
    """Wrap mapper.to_new_event (and every already-imported module's reference to it) to record payloads."""
    from medperf_core.store import mapper

    original = mapper.to_new_event

    def recording_to_new_event(*args: Any, **kwargs: Any) -> Any:
        new = original(*args, **kwargs)
        RECORDED_PAYLOADS.append((new.type, new.schema_version, new.payload))
        return new

    for module in list(sys.modules.values()):
        if getattr(module, "to_new_event", None) is original:
            module.to_new_event = recording_to_new_event  # type: ignore[attr-defined]


_collect_payloads()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not RECORDED_PAYLOADS:
        return
    import jsonschema

    sys.path.insert(0, str(REPO / "events"))
    try:
        from generate_schemas import load_catalog  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    catalog = load_catalog()
    problems: list[str] = []
    seen: set[str] = set()
    for type_name, version, payload in RECORDED_PAYLOADS:
        schema = catalog.get((type_name, version))
        if schema is None:
            problem = f"{type_name} v{version}: no schema in events/ (run python events/generate_schemas.py)"
        else:
            error = jsonschema.exceptions.best_match(
                jsonschema.Draft202012Validator(schema).iter_errors(payload)
            )
            where = "/".join(str(p) for p in error.absolute_path) if error else ""
            problem = (
                f"{type_name} v{version}: {where or 'payload'}: {error.validator} failed" if error else ""
            )
            example = f" (e.g. {str(payload)[:200]})"
        if problem and problem not in seen:
            seen.add(problem)
            problems.append(problem + (example if schema is not None else ""))
    if problems:
        sys.stderr.write(
            "\nevents written during the tests do not match the catalog:\n  " + "\n  ".join(problems) + "\n"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED



# --- PostgreSQL: a fresh database per test that asks for one --------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test (skipped without PostgreSQL)."""
    from medperf_core.testing.postgres import fresh_database, require_postgres

    require_postgres()
    with fresh_database() as url:
        yield url
