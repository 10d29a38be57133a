"""Crash trials: the data owner's client killed with SIGKILL at random moments, or at the instant the server commits
its write, in `dataset submit`, `prepare`, `set_operational`, `associate`, `benchmark run` and `result submit`, on
the real server and the profile's container engine (the tutorial's containers).

Each trial starts from a copy of the state just before its command (server data and client home, made once by
`Template`), kills the command, re-runs it and runs `medperf sync`, then checks that client and server agree and that
both logs verify and replay. `tests/e2e/test_crash_trials.py` runs a few dozen; `benchmarks/crash_trials.py` hundreds.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import requests

from medperf_core.containers.leftovers import ENV_RUN, LABEL_RUN
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, free_port, medperf_command, start_server

SUBMIT = ("dataset", "submit", "--name", "mytestdata", "--description", "crash trial", "--location", "here",
          "--data_path", "medperf_tutorial/sample_raw_data/images", "--labels_path",
          "medperf_tutorial/sample_raw_data/labels", "--benchmark", "1", "-y")
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {  # name → (the state it starts from, its arguments)
    "submit": ("fresh", SUBMIT),
    "prepare": ("submitted", ("dataset", "prepare", "--data_uid", "1", "-y")),
    "operational": ("prepared", ("dataset", "set_operational", "--data_uid", "1", "-y")),
    "associate": ("operational", ("dataset", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y")),
    "run": ("approved", ("benchmark", "run", "--benchmark", "1", "--data_uid", "1")),
    "result": ("ran", ("result", "submit", "--result", "b1m4d1", "-y")),
}
MODES = ("random", "commit")
# command → (event → how many the client log must hold after recovery, the event the server must have one more of)
EXPECT: dict[str, tuple[dict[str, int], str | None]] = {
    "submit": ({"dataset.registered": 1}, "dataset.registered"),
    "prepare": ({"dataset.prepared": 1}, None),
    "operational": ({"dataset.marked_operational": 1}, "dataset.marked_operational"),
    "associate": ({"association.requested": 1}, "association.requested"),
    "run": ({"execution.finished": 2}, None),  # the compatibility test's (reference model), then model 4
    "result": ({"result.submitted": 1}, "result.submitted"),
}
COMMIT_DELAY_S = 1.0
SERVER_START_S = 180.0  # a server start on a busy machine (long runs go at `nice -n 19` beside other work)


@attrs.define
class Trial:
    command: str
    mode: str
    killed: bool = False
    at: float = 0.0
    problems: list[str] = attrs.field(factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems


def medperf(home: Path, work: Path, *args: str, timeout: float = 900,
            run_label: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDPERF_HOME": str(home), **({ENV_RUN: run_label} if run_label else {})}
    for name in ("MEDPERF_PROFILE", "MEDPERF_OFFLINE"):
        env.pop(name, None)
    return subprocess.run([*medperf_command(), *args], cwd=work, capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


def _must(done: subprocess.CompletedProcess[str], what: str) -> str:
    if done.returncode != 0:
        raise RuntimeError(f"{what} → {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


class Template:
    """The tutorial run once, its server data and client home copied before each crash-tested command."""

    def __init__(self, root: Path, platform: str = "docker") -> None:
        self.root = root
        self.work = root / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.server_home = root / "server-home"
        self.durations: dict[str, float] = {}
        # The containers of these trials carry this label: the leftovers check looks at them only, so other
        # Docker users of the machine (other tests) neither disturb it nor are disturbed.
        self.run_label = f"crash-trials-{uuid.uuid4().hex[:12]}"
        live_data, live_home = root / "live" / "server-data", root / "live" / "home"
        # The seeded files are published under the server's URL: every server of these trials uses this one port.
        self.port = free_port()
        _must(medperf(self.server_home, self.work, "server", "seed", "--demo", "data", "--data-dir", str(live_data),
                      "--public-url", f"http://127.0.0.1:{self.port}"), "server seed")
        server = start_server(live_data, port=self.port, env={"MEDPERF_HOME": str(self.server_home)},
                              timeout=SERVER_START_S)
        try:
            for args in (("profile", "set", "--server", server.url), *((("profile", "set", "--platform", platform),)
                         if platform != "docker" else ()), ("tutorial", "setup", "data"),
                         ("auth", "login", "-e", DEMO_EMAILS["do"])):
                _must(medperf(live_home, self.work, *args, run_label=self.run_label), " ".join(args))
            for name, then in (("fresh", "submit"), ("submitted", "prepare"), ("prepared", "operational"),
                               ("operational", "associate"), ("approved", "run"), ("ran", "result")):
                if name == "approved":
                    token = server.token(DEMO_EMAILS["bo"])
                    answer = requests.put(f"{server.api}/datasets/1/benchmarks/1/",
                                          json={"approval_status": "APPROVED"},
                                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
                    answer.raise_for_status()
                server = self._snapshot(name, server, live_data, live_home)
                started = time.monotonic()
                _must(medperf(live_home, self.work, *COMMANDS[then][1], run_label=self.run_label), then)
                self.durations[then] = time.monotonic() - started
        finally:
            server.stop()

    def _snapshot(self, name: str, server: ServerProcess, data: Path, home: Path) -> ServerProcess:
        port = self.port
        server.stop()  # a consistent copy of the database: nothing writes while it is copied
        shutil.copytree(data, self.root / "stages" / name / "server-data")
        shutil.copytree(home, self.root / "stages" / name / "home")
        return start_server(data, port=port, env={"MEDPERF_HOME": str(self.server_home)}, timeout=SERVER_START_S)

    def trial(self, command: str, mode: str, rng: random.Random, number: int) -> Trial:
        stage, args = COMMANDS[command]
        where = self.root / "trials" / f"{number:04d}-{command}-{mode}"
        data, home = where / "server-data", where / "home"
        shutil.copytree(self.root / "stages" / stage / "server-data", data)
        shutil.copytree(self.root / "stages" / stage / "home", home)
        env = {"MEDPERF_HOME": str(self.server_home)}
        if mode == "commit":
            env["MEDPERF_SERVER_COMMIT_DELAY"] = str(COMMIT_DELAY_S)
        trial = Trial(command, mode)
        server = start_server(data, port=self.port, env=env, timeout=SERVER_START_S)
        try:
            _must(medperf(home, self.work, "profile", "set", "--server", server.url, run_label=self.run_label),
                  "profile set")
            self._kill_during(trial, home, args, data, rng)
            self._recover(trial, home, args)
        finally:
            server.stop()
        self._check(trial, home, data)
        if trial.verified:
            shutil.rmtree(where, ignore_errors=True)
        return trial

    def _kill_during(self, trial: Trial, home: Path, args: tuple[str, ...], data: Path, rng: random.Random) -> None:
        env = {**os.environ, "MEDPERF_HOME": str(home), ENV_RUN: self.run_label}
        started = time.monotonic()
        process = subprocess.Popen([*medperf_command(), *args], cwd=self.work, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial.mode == "random":
            deadline = started + rng.uniform(0.0, 1.2 * self.durations.get(trial.command, 5.0))
            while time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.01)
        else:  # the server committed a write and holds its answer for COMMIT_DELAY_S: kill the client now
            head = _server_head(data)
            while process.poll() is None and _server_head(data) == head:
                time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            trial.killed = True
        process.wait()
        trial.at = round(time.monotonic() - started, 3)

    def _recover(self, trial: Trial, home: Path, args: tuple[str, ...]) -> None:
        again = medperf(home, self.work, *args, run_label=self.run_label)
        synced = medperf(home, self.work, "sync", "--json", run_label=self.run_label)
        if synced.returncode != 0:
            trial.problems.append(f"sync failed: {synced.stderr.strip()[-300:]}")
        elif json.loads(synced.stdout)["still_pending"]:
            trial.problems.append("requests still pending after sync")
        if again.returncode != 0 and not _acceptable_refusal(trial.command, again.stderr):
            trial.problems.append(f"re-run failed: {again.stderr.strip()[-300:]}")

    def _check(self, trial: Trial, home: Path, data: Path) -> None:
        for command in (("events", "verify"), ("events", "replay", "--check-only")):
            for where in ((), ("--server-data-dir", str(data))):
                done = medperf(home if not where else self.server_home, self.work, *command, *where)
                if done.returncode != 0:
                    trial.problems.append(f"{' '.join(command)} {'server' if where else 'client'}: "
                                          f"{(done.stdout + done.stderr).strip()[-300:]}")
        listed = medperf(home, self.work, "events", "ls", "--json")
        types = [e["type"] for e in json.loads(listed.stdout or "[]")] if listed.returncode == 0 else []
        before = _server_types(self.root / "stages" / COMMANDS[trial.command][0] / "server-data")
        server = _server_types(data)
        local, created = EXPECT[trial.command]
        for event, count in local.items():
            if types.count(event) != count:
                trial.problems.append(f"client log has {types.count(event)} × {event}, expected {count}")
        if created and server.count(created) != before.count(created) + 1:
            trial.problems.append(f"server log has {server.count(created) - before.count(created)} new {created}, "
                                  "expected 1")
        if types.count("request.pending") != types.count("request.done") + types.count("request.failed"):
            trial.problems.append("a request is still pending in the client log")
        if trial.command in ("prepare", "run", "associate"):
            # A container the engine created just as its client was killed outlives it until the next runner start,
            # which removes the containers of dead clients: do what that start does, then nothing may be left.
            import docker
            from medperf_docker.runner import remove_leftovers

            remove_leftovers(docker.from_env())
            leftovers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL_RUN}={self.run_label}"],
                                       capture_output=True, text=True)
            if leftovers.returncode == 0 and leftovers.stdout.split():
                trial.problems.append(f"containers left behind: {leftovers.stdout.split()}")


def kill_at_commit(command: list[str], *, cwd: Path, env: dict[str, str], data: Path, event: str,
                   timeout: float = 900) -> bool:
    """Run `command` (a `medperf ...` process) and SIGKILL it as soon as the server at `data` (an SQLite data dir,
    its server started with MEDPERF_SERVER_COMMIT_DELAY) has committed one more `event`: the server holds its
    answer back meanwhile, so the client dies between the server's commit and its own record of the answer.
    Whether it was killed (False: it ended first, or `timeout` passed)."""
    before = _server_types(data).count(event)
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if _server_types(data).count(event) > before:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.02)
        return False
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _acceptable_refusal(command: str, stderr: str) -> bool:
    """A re-run that finds its work already done says so (and changes nothing): that is agreement, not failure."""
    return any(text in stderr for text in ("already submitted", "already registered", "already requested",
                                           "already operational"))


def _server_head(data: Path) -> int:
    with sqlite3.connect(f"file:{data / 'events.db'}?mode=ro", uri=True, timeout=5) as db:
        row = db.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()
    return int(row[0])


def _server_types(data: Path) -> list[str]:
    with sqlite3.connect(f"file:{data / 'events.db'}?mode=ro", uri=True, timeout=5) as db:
        return [str(r[0]) for r in db.execute("SELECT type FROM events ORDER BY position")]


def run_trials(template: Template, count: int, seed: int, commands: tuple[str, ...] = tuple(COMMANDS),
               modes: tuple[str, ...] = MODES, each: Callable[[list[Trial]], None] | None = None) -> list[Trial]:
    """`count` trials cycling through commands and modes (commit mode only where the command writes); `each` is
    called with the trials so far after every one (progress for long runs)."""
    rng = random.Random(seed)
    plan = [(c, m) for c in commands for m in modes if not (m == "commit" and c == "run")]
    trials: list[Trial] = []
    for i in range(count):
        trials.append(template.trial(*plan[i % len(plan)], rng, i))
        if each is not None:
            each(trials)
    return trials


def summary(trials: list[Trial]) -> dict[str, Any]:
    return {
        "trials": len(trials),
        "killed": sum(t.killed for t in trials),
        "verified": sum(t.verified for t in trials),
        "resumed": sum(t.killed and t.verified for t in trials),
        "diverged": sum(not t.verified for t in trials),
        "problems": [f"{t.command}/{t.mode} at {t.at}s: {p}" for t in trials for p in t.problems],
    }
