"""Throwaway PostgreSQL databases for tests: each test (or server) gets its own, dropped afterwards.

`MEDPERF_TEST_POSTGRES` names a database the tests connect to in order to create and drop theirs (default
`postgresql:///postgres`: the local cluster over its Unix socket, as the current user; `scripts/start-postgres.sh`
starts one and creates that user). Where none answers, PostgreSQL tests are skipped, except under CI (CI=1), where
they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ADMIN_URL_ENV = "MEDPERF_TEST_POSTGRES"
DEFAULT_ADMIN_URL = "postgresql:///postgres"


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def unavailable() -> str | None:
    """Why no PostgreSQL can be used for tests (None: one can)."""
    try:
        import psycopg
    except ModuleNotFoundError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(admin_url(), connect_timeout=5):
            return None
    except psycopg.Error as e:
        return f"no PostgreSQL at {admin_url()} ({' '.join(str(e).split())[:200]}); run scripts/start-postgres.sh"


def require_postgres() -> None:
    """In a pytest test: skip when no PostgreSQL is available, or fail under CI (CI=1), which must have one."""
    import pytest

    reason = unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)


def database_url(name: str) -> str:
    """The admin URL with its database replaced by `name`."""
    base, sep, query = admin_url().partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]  # urlunsplit would drop an empty host (postgresql:///db: the Unix socket)
    return f"{scheme}://{host}/{name}{sep}{query}"


@contextmanager
def fresh_database(prefix: str = "medperf_test") -> Iterator[str]:
    """A new, empty database's URL; the database is dropped (its connections ended) on exit."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
