"""A changed byte, a deleted row or two swapped rows make `medperf events verify` fail at their position."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from medperf_core.cli.main import run
from medperf_core.store.sqlite.recorder import COLUMNS

ALL_COLUMNS = [c.strip() for c in COLUMNS.split(",")]
EVENTS = 8  # the tutorial flow of the sample_log fixture


def verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["events", "verify", "--store", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def tampered_copy(sample_log: Path, tmp: str) -> tuple[Path, sqlite3.Connection]:
    path = Path(tmp) / "events.db"
    shutil.copy(sample_log, path)
    return path, sqlite3.connect(path, isolation_level=None)


def test_the_untouched_log_verifies(sample_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(sample_log, capsys)
    assert (code, err) == (0, "")
    assert f"intact: {EVENTS} events" in out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=1, max_value=EVENTS),
    column=st.sampled_from(ALL_COLUMNS),
    offset=st.integers(min_value=0, max_value=10_000),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flipping_any_byte_of_any_column_is_detected_at_its_position(
    sample_log: Path, capsys: pytest.CaptureFixture[str], position: int, column: str, offset: int, mask: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, conn = tampered_copy(sample_log, tmp)
        (value,) = conn.execute(f"SELECT [{column}] FROM events WHERE position = ?", (position,)).fetchone()
        raw = bytearray(str(value).encode("utf-8"))
        raw[offset % len(raw)] ^= mask
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        try:
            if text is not None:  # integer columns take numeric text back as an integer (column affinity)
                conn.execute(f"UPDATE events SET [{column}] = ? WHERE position = ?", (text, position))
            else:
                conn.execute(
                    f"UPDATE events SET [{column}] = CAST(? AS TEXT) WHERE position = ?",
                    (bytes(raw), position),
                )
        except sqlite3.IntegrityError:
            assume(False)  # e.g. a position or (stream, version) that another row holds: no such tampering
        except sqlite3.DatabaseError as e:
            assume("mismatch" not in str(e))  # position is the rowid: it only takes integers
            raise
        conn.close()
        code, out, err = verify(path, capsys)
    if column == "position" and text is not None and int(text) < position:
        position = max(1, int(text))  # the row moved before its slot (to 0 even): the chain breaks there
    assert code == 5, (column, out, err)
    assert f"broken at position {position}:" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("position", range(1, EVENTS))
def test_deleting_a_row_is_detected_at_its_position(
    sample_log: Path, capsys: pytest.CaptureFixture[str], position: int, tmp_path: Path
) -> None:
    path, conn = tampered_copy(sample_log, str(tmp_path))
    conn.execute("DELETE FROM events WHERE position = ?", (position,))
    conn.close()
    code, _, err = verify(path, capsys)
    assert code == 5
    assert f"broken at position {position}:" in err


def test_deleting_the_last_rows_changes_the_head(
    sample_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Truncation keeps a valid chain (LOG-FORMAT.md §3): the head hash verify prints is how to notice."""
    _, before, _ = verify(sample_log, capsys)
    conn = sqlite3.connect(sample_log, isolation_level=None)
    conn.execute("DELETE FROM events WHERE position = ?", (EVENTS,))
    conn.close()
    code, after, _ = verify(sample_log, capsys)
    assert code == 0
    assert before.split("head ")[1] != after.split("head ")[1]


def _swap(conn: sqlite3.Connection, a: int, b: int) -> None:
    """Swap all columns but the position of two rows (via a free version: (stream, version) is unique)."""
    names = [c for c in ALL_COLUMNS if c != "position"]
    row_a = conn.execute(f"SELECT {', '.join(names)} FROM events WHERE position = ?", (a,)).fetchone()
    row_b = conn.execute(f"SELECT {', '.join(names)} FROM events WHERE position = ?", (b,)).fetchone()
    assignments = ", ".join(f"[{n}] = ?" for n in names)
    conn.execute("UPDATE events SET version = 1000000 WHERE position = ?", (a,))
    conn.execute(f"UPDATE events SET {assignments} WHERE position = ?", (*row_a, b))
    conn.execute(f"UPDATE events SET {assignments} WHERE position = ?", (*row_b, a))


@pytest.mark.parametrize(("a", "b"), [(1, 2), (2, 5), (3, 8), (7, 8), (1, 8)])
def test_reordering_two_rows_is_detected_at_the_first(
    sample_log: Path, capsys: pytest.CaptureFixture[str], a: int, b: int
) -> None:
    conn = sqlite3.connect(sample_log, isolation_level=None)
    _swap(conn, a, b)
    conn.close()
    code, _, err = verify(sample_log, capsys)
    assert code == 5
    assert f"broken at position {a}:" in err


def test_the_real_medperf_binary_names_the_broken_position(sample_log: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(sample_log, isolation_level=None)
    changed = conn.execute(
        "UPDATE events SET payload = replace(payload, '\"auc\":0.91', '\"auc\":0.99') WHERE position = 7"
    )
    assert changed.rowcount == 1  # (total_changes would count the guard's trigger too)
    conn.close()
    medperf = Path(sys.executable).with_name("medperf")
    assert medperf.exists(), f"the console script is missing next to {sys.executable}: pip install -e ."
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [str(medperf), "events", "verify", "--store", str(sample_log)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 5
    assert done.stderr.strip() == (
        "❌ Error: event log broken at position 7: hash does not match the event's contents "
        "(restore the log from a backup; do not append to it)"
    )
    assert "Traceback" not in done.stderr


def _after_last_row_inserted_by_hand(conn: sqlite3.Connection) -> None:
    names = ", ".join(f"[{c}]" for c in ALL_COLUMNS if c != "position")
    conn.execute(f"INSERT INTO events ({names}) SELECT stream, version + 100, type, schema_version, recorded_at, "
                 f"actor, payload, hash, hash FROM events WHERE position = {EVENTS}")


TAMPERINGS = {
    "payload of the first event": lambda c: c.execute(
        "UPDATE events SET payload = payload || ' ' WHERE position = 1"),
    "actor of a middle event": lambda c: c.execute("UPDATE events SET actor = 'mallory' WHERE position = 4"),
    "first event deleted": lambda c: c.execute("DELETE FROM events WHERE position = 1"),
    "last event deleted": lambda c: c.execute(f"DELETE FROM events WHERE position = {EVENTS}"),
    "a row inserted at the end": _after_last_row_inserted_by_hand,
    "last payload, guard triggers dropped first": lambda c: c.executescript(
        "DROP TRIGGER events_updated_by_hand; DROP TRIGGER events_deleted_by_hand; "
        f"UPDATE events SET payload = replace(payload, '0.91', '0.99') WHERE position = {EVENTS};"),
    "guard dropped": lambda c: c.execute("DROP TABLE log_guard"),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_log_altered_by_hand_takes_no_new_event(sample_log: Path, tampering: str) -> None:
    """Checked before every append, in a few point reads: the guard's triggers, the head the recorder last wrote,
    and the last event's hash and link (a tail a hand edit could reach without the triggers)."""
    from medperf_core.domain.events import UserRegistered
    from medperf_core.errors import IntegrityError
    from medperf_core.store.sqlite import sqlite_store

    conn = sqlite3.connect(sample_log, isolation_level=None)
    TAMPERINGS[tampering](conn)
    before = conn.execute("SELECT * FROM events ORDER BY position").fetchall()
    conn.close()
    with sqlite_store(sample_log, []) as store, pytest.raises(IntegrityError) as refused:
        store.append("user-9", 0, [UserRegistered(user_id=9, email="u9@example.com", username="u9")], "test")
    message = refused.value.one_line()
    assert "altered by hand" in message and "medperf events verify" in message, message
    assert len(message.splitlines()) == 1
    conn = sqlite3.connect(sample_log, isolation_level=None)
    assert conn.execute("SELECT * FROM events ORDER BY position").fetchall() == before  # nothing appended
    conn.close()


def test_an_untouched_log_still_takes_events(sample_log: Path) -> None:
    from medperf_core.domain.events import UserRegistered
    from medperf_core.store.sqlite import sqlite_store

    for n in (9, 10):  # the guard follows the recorder's own appends
        with sqlite_store(sample_log, []) as store:
            store.append(f"user-{n}", 0, [UserRegistered(user_id=n, email=f"u{n}@example.com", username="u")], "t")
    with sqlite_store(sample_log, []) as store:
        assert store.verify().ok and store.head().position == EVENTS + 2
