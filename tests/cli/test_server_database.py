"""Moving a server to PostgreSQL: export from SQLite, `server import` into PostgreSQL, the same state and chain
head; `server migrate`; `events verify|replay|export --database`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from _server_helpers import run_medperf

from medperf_core.domain.resources import USER, all_resources
from medperf_core.server.storage import open_server_storage
from medperf_core.testing.server import medperf_command


def _state(where: str | Path) -> dict[str, list[dict[str, object]]]:
    storage = open_server_storage(where)
    try:
        return {r.table: storage.reads.list(r, None, 0).results for r in all_resources()}
    finally:
        storage.store.close()


def test_export_from_sqlite_import_into_postgresql(tmp_path: Path, postgres_url: str) -> None:
    home, data = str(tmp_path / "home"), tmp_path / "server"
    seeded = run_medperf("server", "seed", "--demo", "data", "--data-dir", str(data), "--no-build", home=home)
    assert seeded.returncode == 0, seeded.stderr
    log = tmp_path / "log.jsonl"
    exported = run_medperf("events", "export", "--server-data-dir", str(data), "-o", str(log), home=home)
    assert exported.returncode == 0, exported.stderr
    head = json.loads(log.read_text().splitlines()[-1])["hash"]

    migrated = run_medperf("server", "migrate", "--database", postgres_url, home=home)
    assert migrated.returncode == 0 and "applied 2 migrations" in migrated.stdout, migrated.stdout + migrated.stderr
    imported = run_medperf("server", "import", "--database", postgres_url, str(log), home=home)
    assert imported.returncode == 0, imported.stderr
    assert f"chain head {head}" in imported.stdout

    verified = run_medperf("events", "verify", "--database", postgres_url, home=home)
    assert verified.returncode == 0 and f"head {head}" in verified.stdout, verified.stdout + verified.stderr
    replayed = run_medperf("events", "replay", "--check-only", "--database", postgres_url, home=home)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    again = tmp_path / "again.jsonl"
    assert run_medperf("events", "export", "--database", postgres_url, "-o", str(again), home=home).returncode == 0
    assert again.read_text() == log.read_text()
    sqlite_state = _state(data)
    assert sqlite_state["benchmarks"] and _state(postgres_url) == sqlite_state

    twice = run_medperf("server", "import", "--database", postgres_url, str(log), home=home)
    assert twice.returncode != 0 and "already holds" in twice.stderr
    up_to_date = run_medperf("server", "migrate", "--database", postgres_url, home=home)
    assert up_to_date.returncode == 0 and "applied" not in up_to_date.stdout and "up to date" in up_to_date.stdout


def test_an_altered_export_imports_nothing(tmp_path: Path, postgres_url: str) -> None:
    home, data = str(tmp_path / "home"), tmp_path / "server"
    assert run_medperf("server", "seed", "--demo", "benchmark", "--data-dir", str(data), "--no-build",
                       home=home).returncode == 0
    log = tmp_path / "log.jsonl"
    assert run_medperf("events", "export", "--server-data-dir", str(data), "-o", str(log), home=home).returncode == 0
    lines = log.read_text().splitlines()
    row = json.loads(lines[1])
    row["actor"] = "mallory@example.com"
    lines[1] = json.dumps(row)
    log.write_text("\n".join(lines) + "\n")
    done = run_medperf("server", "import", "--database", postgres_url, str(log), home=home)
    assert done.returncode != 0 and "broken at position 2" in done.stderr, done.stderr
    listed = run_medperf("events", "ls", "--json", "--database", postgres_url, home=home)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_import_into_sqlite_too(tmp_path: Path) -> None:
    home, data = str(tmp_path / "home"), tmp_path / "server"
    assert run_medperf("server", "seed", "--demo", "model", "--data-dir", str(data), "--no-build",
                       home=home).returncode == 0
    log = tmp_path / "log.jsonl"
    assert run_medperf("events", "export", "--server-data-dir", str(data), "-o", str(log), home=home).returncode == 0
    target = tmp_path / "copy" / "events.db"
    done = run_medperf("server", "import", "--database", f"sqlite://{target}", str(log), home=home)
    assert done.returncode == 0, done.stderr
    assert _state(f"sqlite://{target}") == _state(data)


def test_reset_a_postgresql_server_drops_only_its_schema(tmp_path: Path, postgres_url: str) -> None:
    import psycopg

    from medperf_core.domain.events import UserRegistered

    home = str(tmp_path / "home")
    nothing = run_medperf("server", "reset", "--database", postgres_url, "-y", home=home)
    assert nothing.returncode == 0 and "nothing to reset" in nothing.stdout, nothing.stdout + nothing.stderr
    storage = open_server_storage(postgres_url)
    try:
        storage.store.append("user-1", 0, [UserRegistered(user_id=1, email="u1@example.com", username="u1",
                                                          first_name="", last_name="", is_staff=False)], "test")
    finally:
        storage.store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE not_medperf (x INTEGER)")
        conn.execute("INSERT INTO not_medperf VALUES (7)")

    declined = subprocess.run([*medperf_command(), "server", "reset", "--database", postgres_url], input="n\n",
                              capture_output=True, text=True, env={**os.environ, "MEDPERF_HOME": home}, timeout=60)
    # without a terminal, an answer piped in is not taken for a reset: -y is needed
    assert declined.returncode != 0 and "(1 events)" in declined.stderr and "-y" in declined.stderr, \
        declined.stdout + declined.stderr
    assert _state(postgres_url)["users"], "a refused reset changed nothing"

    done = run_medperf("server", "reset", "--database", postgres_url, "-y", home=home)
    assert done.returncode == 0 and "events" in done.stdout and "users_ids" in done.stdout, done.stdout + done.stderr
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT x FROM not_medperf").fetchall() == [(7,)]  # not medperf's: kept
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)  # created again, empty
    assert all(rows == [] for rows in _state(postgres_url).values())
    verified = run_medperf("events", "verify", "--database", postgres_url, home=home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    storage = open_server_storage(postgres_url)
    try:  # a new server on it starts from id 1 again
        with storage.store.recorder.transaction() as session:
            assert storage.reads.next_id(session, USER) == 1
    finally:
        storage.store.close()


def test_an_older_log_holding_a_nul_says_which_event_and_what_to_do(tmp_path: Path, postgres_url: str) -> None:
    """Written before NUL was refused: SQLite took it, PostgreSQL cannot hold it; the import names the event."""
    from medperf_core.domain.events import DatasetUpdated, UserRegistered

    home, data = str(tmp_path / "home"), tmp_path / "server"
    storage = open_server_storage(data)
    try:
        storage.store.append("user-1", 0, [UserRegistered(user_id=1, email="u1@example.com", username="u1")], "t")
        storage.store.append("dataset-7", 0, [DatasetUpdated(dataset_id=7, changes={"description": "a\x00b"})], "t")
    finally:
        storage.store.close()
    log = tmp_path / "log.jsonl"
    assert run_medperf("events", "export", "--server-data-dir", str(data), "-o", str(log), home=home).returncode == 0
    done = run_medperf("server", "import", "--database", postgres_url, str(log), home=home)
    assert done.returncode != 0, done.stdout
    error = done.stderr.strip()
    assert "hashes differently" not in error and len(error.splitlines()) == 1, error
    assert "event 2 (stream dataset-7, dataset.updated)" in error and "NUL" in error and "SQLite" in error, error
    listed = run_medperf("events", "ls", "--json", "--database", postgres_url, home=home)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
