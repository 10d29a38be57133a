"""Questions whose Yes sends data or cannot be undone default to No, through a real terminal (a pty) and through pipes.

Each command runs as a real `medperf` process against a real server; what is checked is what the server and the
data directory hold afterwards, not only what was printed."""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _server_helpers import Client, make_benchmark, make_container, unique

from medperf_core.cli.ui import confirm
from medperf_core.domain.events import UserRegistered
from medperf_core.errors import CancelledError, UserError
from medperf_core.server.storage import open_server_storage
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, medperf_command, start_server

ENTER, END_OF_INPUT = b"\r", b"\x04"  # what the keys send: a terminal turns \r into \n; Ctrl-D at a line's start is EOF


def through_terminal(args: list[str], answer: bytes, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run `medperf ARGS` with a pty as stdin/stdout/stderr; type `answer` once the question `[y/N]` shows."""
    master, slave = os.openpty()
    process = subprocess.Popen([*medperf_command(), *args], stdin=slave, stdout=slave, stderr=slave, env=env,
                               start_new_session=True)
    os.close(slave)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every holder of the terminal's other end has exited
                    break
                if not chunk:
                    break
                output += chunk
            if not answered and b"[y/N]" in output:
                os.write(master, answer)
                answered = True
            if process.poll() is not None and not ready:
                break
        if answered:
            process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert answered, f"the question never showed:\n{output.decode(errors='replace')}"
    return process.returncode, output.decode(errors="replace")


def through_pipe(args: list[str], stdin: str | None, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `medperf ARGS` with `stdin` piped in (None: /dev/null)."""
    return subprocess.run([*medperf_command(), *args], input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
                          capture_output=True, text=True, env=env, timeout=90)


# --- the answer ---------------------------------------------------------------------------------------------


class _Piped(io.StringIO):
    """Standard input that is not a terminal."""

    def isatty(self) -> bool:
        return False


def test_only_y_or_yes_goes_on_anything_else_is_no(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("y\n", "Y\n", "yes\n", " YES \r\n", "y"):
        monkeypatch.setattr("sys.stdin", _Piped(text))
        confirm("Send it?", False)
    for text in ("", "\n", "n\n", "no\n", "ye\n", "yy\n", "sure\n", "\ny\n"):
        monkeypatch.setattr("sys.stdin", _Piped(text))
        with pytest.raises(CancelledError, match="nothing was sent"):
            confirm("Send it?", False)
        assert "Send it? [y/N]: " in capsys.readouterr().out, repr(text)


def test_dash_y_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = _Piped("n\n")
    monkeypatch.setattr("sys.stdin", stdin)
    confirm("Send it?", True)
    confirm("Delete it?", True, destructive=True)
    assert stdin.tell() == 0


def test_a_destructive_question_is_not_answered_from_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Piped("y\n"))
    with pytest.raises(UserError, match="no terminal") as refused:
        confirm("Delete it?", False, destructive=True)
    assert refused.value.hint is not None and "-y" in refused.value.hint


# --- sending data: dataset submit ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int]]:
    """A real server with an approved benchmark B; yields (server, B)."""
    server = start_server(tmp_path_factory.mktemp("prompt-server"),
                          env={"MEDPERF_HOME": str(tmp_path_factory.mktemp("server-home"))})
    with server:
        benchmark = make_benchmark(Client(server, "bo"), approved_by=Client(server, "admin"), state="OPERATION")
        yield server, int(benchmark["id"])


def _data_owner(server: ServerProcess, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A MEDPERF_HOME logged in as the data owner, and a data folder of its own (so each test's hash is new)."""
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "do-home")}
    for args in (["profile", "set", "--server", server.url], ["auth", "login", "-e", DEMO_EMAILS["do"]]):
        done = through_pipe(args, None, env)
        assert done.returncode == 0, done.stdout + done.stderr
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "labels").mkdir()
    (data / "images" / "case1.txt").write_text(str(tmp_path), encoding="utf-8")
    (data / "labels" / "case1.txt").write_text("1", encoding="utf-8")
    return env, data


def _submit(benchmark: int, data: Path, name: str) -> list[str]:
    return ["dataset", "submit", "--name", name, "--data_path", str(data / "images"), "--labels_path",
            str(data / "labels"), "--benchmark", str(benchmark)]


def _registered(server: ServerProcess, name: str) -> list[str]:
    """The data owner's datasets of that name on the server."""
    rows = Client(server, "do").ok("GET", "/me/datasets/")
    return [r["name"] for r in rows["results"] if r["name"] == name]


@pytest.mark.parametrize("answer", [ENTER, END_OF_INPUT, b"n\r", b"sure\r"], ids=["enter", "eof", "n", "other"])
def test_at_a_terminal_only_y_sends_the_dataset(site: tuple[ServerProcess, int], tmp_path: Path,
                                                answer: bytes) -> None:
    server, benchmark = site
    env, data = _data_owner(server, tmp_path)
    declined, accepted = unique("declined"), unique("accepted")
    code, out = through_terminal(_submit(benchmark, data, declined), answer, env)
    assert "[y/N]" in out and "[Y/n]" not in out, out
    assert code != 0 and "cancelled" in out, out
    assert _registered(server, declined) == [], "a declined submission reached the server"

    code, out = through_terminal(_submit(benchmark, data, accepted), b"y\r", env)
    assert code == 0 and "Dataset registered" in out, out
    assert _registered(server, accepted) == [accepted]


@pytest.mark.parametrize("stdin", [None, "", "\n", "n\n", "Y es\n"], ids=["devnull", "eof", "enter", "n", "other"])
def test_from_a_pipe_only_y_sends_the_dataset(site: tuple[ServerProcess, int], tmp_path: Path,
                                              stdin: str | None) -> None:
    server, benchmark = site
    env, data = _data_owner(server, tmp_path)
    declined, piped = unique("declined"), unique("piped")
    done = through_pipe(_submit(benchmark, data, declined), stdin, env)
    assert done.returncode != 0 and "cancelled" in done.stderr, done.stdout + done.stderr
    assert _registered(server, declined) == [], "a declined submission reached the server"

    done = through_pipe(_submit(benchmark, data, piped), "y\n", env)  # `echo y | medperf ...` still works
    assert done.returncode == 0 and "Dataset registered" in done.stdout, done.stdout + done.stderr
    assert _registered(server, piped) == [piped]


# --- deleting: server reset ------------------------------------------------------------------------------------


def _server_log(data_dir: Path) -> None:
    """A server's log with one event in `data_dir`."""
    storage = open_server_storage(data_dir)
    try:
        storage.store.append("user-1", 0, [UserRegistered(user_id=1, email="u1@example.com", username="u1",
                                                          first_name="", last_name="", is_staff=False)], "test")
    finally:
        storage.store.close()


def _events(where: str | Path) -> int:
    storage = open_server_storage(where)
    try:
        return sum(1 for _ in storage.store.recorder.read_all())
    finally:
        storage.store.close()


@pytest.mark.parametrize("stdin", [None, "", "\n", "y\n"], ids=["devnull", "eof", "enter", "y"])
def test_server_reset_without_a_terminal_removes_nothing(tmp_path: Path, stdin: str | None) -> None:
    data_dir = tmp_path / "server"
    _server_log(data_dir)
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home")}
    done = through_pipe(["server", "reset", "--data-dir", str(data_dir)], stdin, env)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0, done.stdout + done.stderr
    assert len(lines) == 1 and "no terminal" in lines[0] and "-y" in lines[0], done.stderr
    assert _events(data_dir) == 1, "the log was touched"

    done = through_pipe(["server", "reset", "--data-dir", str(data_dir), "-y"], None, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (data_dir / "events.db").exists()


@pytest.mark.parametrize("answer", [ENTER, END_OF_INPUT, b"n\r"], ids=["enter", "eof", "n"])
def test_server_reset_at_a_terminal_needs_y(tmp_path: Path, answer: bytes) -> None:
    data_dir = tmp_path / "server"
    _server_log(data_dir)
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home")}
    code, out = through_terminal(["server", "reset", "--data-dir", str(data_dir)], answer, env)
    assert code != 0 and "cancelled" in out, out
    assert _events(data_dir) == 1, "a declined reset touched the log"

    code, out = through_terminal(["server", "reset", "--data-dir", str(data_dir)], b"y\r", env)
    assert code == 0 and "reset" in out, out
    assert not (data_dir / "events.db").exists()


def test_server_reset_refuses_while_a_server_runs_on_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "server"
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home")}
    reset = ["server", "reset", "--data-dir", str(data_dir), "-y"]
    with start_server(data_dir, env={"MEDPERF_HOME": env["MEDPERF_HOME"]}) as server:
        make_container(Client(server, "mo"))  # something in the log
        before = _events(data_dir)
        done = through_pipe(reset, None, env)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode != 0, done.stdout + done.stderr
        assert len(lines) == 1 and "server is running" in lines[0] and str(server.process.pid) in lines[0], lines
        assert _events(data_dir) == before and before > 0
        make_container(Client(server, "mo"))  # the server still works on its log
        # A killed server holds nothing: the kernel drops its lock with the process.
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    done = through_pipe(reset, None, env)
    assert done.returncode == 0 and "reset" in done.stdout, done.stdout + done.stderr
    assert not (data_dir / "events.db").exists()


def test_server_reset_refuses_while_a_server_uses_the_postgresql_database(tmp_path: Path,
                                                                          postgres_url: str) -> None:
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home")}
    reset = ["server", "reset", "--database", postgres_url, "-y"]
    with start_server(tmp_path / "server", env={"MEDPERF_HOME": env["MEDPERF_HOME"]}, database=postgres_url) as server:
        make_container(Client(server, "mo"))
        before = _events(postgres_url)
        done = through_pipe(reset, None, env)
        assert done.returncode != 0 and "server is using the database" in done.stderr, done.stdout + done.stderr
        assert _events(postgres_url) == before and before > 0
    done = through_pipe(reset, None, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _events(postgres_url) == 0


def test_a_server_does_not_start_during_a_reset(tmp_path: Path) -> None:
    """The lock works both ways: while a reset holds the log (here: waiting at its question), no server starts."""
    data_dir = tmp_path / "server"
    _server_log(data_dir)
    env = {**os.environ, "MEDPERF_HOME": str(tmp_path / "home")}
    master, slave = os.openpty()
    resetting = subprocess.Popen([*medperf_command(), "server", "reset", "--data-dir", str(data_dir)], stdin=slave,
                                 stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        output, deadline = b"", time.monotonic() + 60
        while b"[y/N]" not in output and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                output += os.read(master, 4096)
        assert b"[y/N]" in output, output.decode(errors="replace")
        with pytest.raises(RuntimeError, match="being reset"):
            start_server(data_dir, env={"MEDPERF_HOME": env["MEDPERF_HOME"]}, timeout=20)
        os.write(master, ENTER)
        assert resetting.wait(timeout=30) != 0
    finally:
        if resetting.poll() is None:
            resetting.kill()
            resetting.wait()
        os.close(master)
    assert _events(data_dir) == 1


# --- deleting: storage cleanup ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stdin", [None, "\n", "y\n"], ids=["devnull", "enter", "y"])
def test_storage_cleanup_without_a_terminal_removes_nothing(tmp_path: Path, stdin: str | None) -> None:
    home = tmp_path / "home"
    leftover = home / "profiles" / "default" / "datasets" / "1" / "data.partial"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("half written", encoding="utf-8")
    env = {**os.environ, "MEDPERF_HOME": str(home)}
    done = through_pipe(["storage", "cleanup"], stdin, env)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0, done.stdout + done.stderr
    assert len(lines) == 1 and "no terminal" in lines[0] and "-y" in lines[0], done.stderr
    assert str(leftover) in done.stdout  # what would go is shown
    assert leftover.exists()

    code, out = through_terminal(["storage", "cleanup"], ENTER, env)
    assert code != 0 and leftover.exists(), out

    done = through_pipe(["storage", "cleanup", "-y"], None, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not leftover.exists()
