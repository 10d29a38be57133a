"""The data-owner tutorial against a real server process and real containers, through the real `medperf` binary.

`Tutorial` owns one seeded server, one MEDPERF_HOME and one working folder holding `medperf_tutorial/`;
`medperf(...)` runs the CLI as a subprocess there. The tests in this folder import it (tests/e2e is on sys.path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from medperf_core.testing.runner_contract import require_engine
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess, free_port, start_server

REPO = Path(__file__).resolve().parents[2]
VENV_MEDPERF = REPO / ".venv" / "bin" / "medperf"

SUBMIT_ARGS = (
    "dataset",
    "submit",
    "--name",
    "mytestdata",
    "--description",
    "A tutorial dataset",
    "--location",
    "My machine",
    "--data_path",
    "medperf_tutorial/sample_raw_data/images",
    "--labels_path",
    "medperf_tutorial/sample_raw_data/labels",
    "--benchmark",
    "1",
    "-y",
)


def medperf_binary() -> list[str]:
    """The installed console script when there is one (what a user runs), else this interpreter's CLI."""
    if VENV_MEDPERF.exists():
        return [str(VENV_MEDPERF)]
    return [sys.executable, "-c", "from medperf_core.cli.main import main; main()"]


def require_platform(platform: str) -> None:
    """Skip (fail under CI) when the platform's engine is missing."""
    if platform == "docker":
        from medperf_docker.runner import DockerRunner

        require_engine(DockerRunner())
    elif platform == "slurm":
        from medperf_slurm.runner import SlurmRunner

        require_engine(SlurmRunner())
    else:
        from medperf_singularity.runner import SingularityRunner

        require_engine(SingularityRunner())


class Tutorial:
    """A seeded server (demo `data`), a profile pointing at it (or at `server_url`), the toy data in `work`."""

    def __init__(
        self,
        root: Path,
        home: Path,
        *,
        platform: str = "docker",
        server_url: Callable[[ServerProcess], str] | None = None,
    ) -> None:
        self.root, self.home, self.platform = root, home, platform
        self.work = root / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.data_dir = root / "server-data"
        self.server_home = root / "server-home"
        port = free_port()  # known before seeding: the seeded files are published under the server's URL
        seeded = self.medperf(
            "server", "seed", "--demo", "data", "--data-dir", str(self.data_dir),
            "--public-url", f"http://127.0.0.1:{port}", home=self.server_home,
        )
        assert "benchmark 1" in seeded.stdout, seeded.stdout
        self.server: ServerProcess = start_server(
            self.data_dir, port, env={"MEDPERF_HOME": str(self.server_home)}
        )
        self.url = server_url(self.server) if server_url else self.server.url
        self.medperf("profile", "set", "--server", self.url)
        if platform != "docker":
            self.medperf("profile", "set", "--platform", platform)
        self.medperf("tutorial", "setup", "data")
        self.raw = self.work / "medperf_tutorial" / "sample_raw_data"
        self.role = ""
        self.login("do")

    # --- the CLI ---

    def medperf(
        self, *args: str, ok: bool = True, home: Path | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MEDPERF_HOME": str(home or self.home)}
        for name in ("MEDPERF_PROFILE", "MEDPERF_DISABLE_PLUGINS", "MEDPERF_BLOCK_PLUGINS"):
            env.pop(name, None)
        done = subprocess.run(
            [*medperf_binary(), *args],
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        if ok:
            assert done.returncode == 0, f"medperf {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def fails(self, *args: str) -> str:
        """Run a command that must fail the documented way; return its one error line."""
        done = self.medperf(*args, ok=False)
        assert done.returncode != 0, f"medperf {' '.join(args)} succeeded:\n{done.stdout}"
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
        assert lines[0].startswith("❌ Error:"), lines[0]
        assert "Traceback" not in done.stdout + done.stderr
        return lines[0]

    def login(self, role: str) -> None:
        if self.role != role:
            self.medperf("auth", "login", "-e", DEMO_EMAILS[role])
            self.role = role

    def approve_dataset(self, benchmark: int = 1, dataset: int = 1) -> None:
        self.login("bo")
        self.medperf("association", "approve", "-b", str(benchmark), "-d", str(dataset))
        self.login("do")

    def events(self) -> list[dict[str, Any]]:
        done = self.medperf("events", "ls", "--json")
        events: list[dict[str, Any]] = json.loads(done.stdout) if done.stdout.strip() else []
        return events

    # --- the tutorial's steps ---

    def submit(self) -> None:
        out = self.medperf(*SUBMIT_ARGS).stdout
        assert "✅ Dataset registered with UID 1" in out, out

    def prepare(self) -> None:
        self.medperf("dataset", "prepare", "--data_uid", "1", "-y")

    def operational(self) -> None:
        self.medperf("dataset", "set_operational", "--data_uid", "1", "-y")

    def associate(self) -> None:
        self.medperf("dataset", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y")

    def until(self, step: str) -> None:
        """Run the tutorial up to and including `step` (submit, prepare, operational, associate, approve)."""
        order = ("submit", "prepare", "operational", "associate", "approve")
        for name in order[: order.index(step) + 1]:
            if name == "approve":
                self.approve_dataset()
            else:
                getattr(self, name)()

    # --- the server, seen directly ---

    def api(self, role: str, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.server.token(DEMO_EMAILS[role])}"}
        return requests.request(method, f"{self.server.api}{path}", json=body, headers=headers, timeout=30)

    def get(self, role: str, path: str) -> Any:
        response = self.api(role, "GET", path)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def server_dataset(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get("do", "/datasets/1/")
        return result

    def close(self) -> None:
        code = self.server.stop()
        assert "Traceback" not in self.server.log(), self.server.log()[-3000:]
        assert code in (0, -15), self.server.log()[-2000:]
        for command in (("events", "verify"), ("events", "replay", "--check-only")):
            self.medperf(*command, "--server-data-dir", str(self.data_dir), home=self.server_home)


@pytest.fixture
def tutorial_factory(tmp_path: Path, medperf_home: Path) -> Any:
    """make(platform=..., server_url=...) → a ready Tutorial; its server stops (and its log is audited) at the end."""
    made: list[Tutorial] = []

    def make(**kwargs: Any) -> Tutorial:
        require_platform(kwargs.get("platform", "docker"))
        tutorial = Tutorial(tmp_path / f"t{len(made)}", medperf_home, **kwargs)
        made.append(tutorial)
        return tutorial

    yield make
    for tutorial in made:
        tutorial.close()
