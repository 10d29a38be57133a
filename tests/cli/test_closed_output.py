"""`medperf ... | head -1`: a reader that goes away after the first line neither stops the work nor changes the exit.

The server holds its answer back after its commit (MEDPERF_SERVER_COMMIT_DELAY), so the reader is surely gone
before the command prints its next line; the command must go on, record the dataset and exit 0 without an error."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, free_port, medperf_command, start_server


def medperf(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*medperf_command(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MEDPERF_HOME": str(home)}, stdin=subprocess.DEVNULL)


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The demo benchmark on a real server that holds every write's answer for a second after its commit."""
    data, server_home, port = tmp_path / "server-data", tmp_path / "server-home", free_port()
    seeded = medperf(server_home, "server", "seed", "--demo", "data", "--data-dir", str(data),
                     "--public-url", f"http://127.0.0.1:{port}")
    assert seeded.returncode == 0, seeded.stderr
    with start_server(data, port, env={"MEDPERF_HOME": str(server_home),
                                       "MEDPERF_SERVER_COMMIT_DELAY": "1.0"}) as server:
        yield server


def test_a_reader_gone_after_the_first_line_does_not_stop_a_submission(
    slow_server: ServerProcess, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    for args in (("profile", "set", "--server", slow_server.url), ("auth", "login", "-e", DEMO_EMAILS["do"])):
        assert medperf(home, *args).returncode == 0
    raw = tmp_path / "raw"
    for folder, files in (("images", {"a.txt": "1", "b.txt": "2"}), ("labels", {"labels.csv": "a,0\nb,1\n"})):
        (raw / folder).mkdir(parents=True)
        for name, text in files.items():
            (raw / folder / name).write_text(text)
    process = subprocess.Popen(
        [*medperf_command(), "dataset", "submit", "--name", "piped", "--data_path", str(raw / "images"),
         "--labels_path", str(raw / "labels"), "--benchmark", "1", "-y"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env={**os.environ, "MEDPERF_HOME": str(home)},
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # what `head -1` keeps
    process.stdout.close()  # ... and then `head` exits
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=120)

    assert b"will be sent to the server" in first
    assert (code, stderr) == (0, "")
    listed = medperf(home, "dataset", "ls", "--mine", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(d["name"], d["local_state"]) for d in json.loads(listed.stdout)] == [("piped", "registered")]
