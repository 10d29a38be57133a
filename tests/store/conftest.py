"""Store fixtures: a sample log written through the real domain events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _store_helpers import StreamSummary, write_tutorial_flow

from medperf_core.store.sqlite import sqlite_store


@pytest.fixture
def sample_log(tmp_path: Path) -> Path:
    """A closed store file holding the tutorial flow (8 events over 3 streams)."""
    path = tmp_path / "sample" / "events.db"
    with sqlite_store(path, [StreamSummary()]) as store:
        write_tutorial_flow(store)
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """A new server database, once SQLite (a data directory) and once PostgreSQL (a URL)."""
    if request.param == "sqlite":
        yield tmp_path
        return
    from medperf_core.testing.postgres import fresh_database, require_postgres

    require_postgres()
    with fresh_database() as url:
        yield url
