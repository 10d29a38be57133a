"""The permission matrix through the real CLI (in process) against the real server: each benchmark-owner and
model-owner command as each role. A refused command prints one line naming the problem, exits non-zero and changes
nothing on the server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from _server_helpers import Client, make_benchmark, make_container, unique

from medperf_core.cli.main import run
from medperf_core.testing.server import DEMO_EMAILS, ServerProcess

Become = Callable[[str], None]
Medperf = Callable[..., tuple[int, str, str]]


@pytest.fixture
def become(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Become:
    """become(role): the CLI acts as `role` (a MEDPERF_HOME of its own, logged in unless anonymous)."""

    def switch(role: str) -> None:
        home = tmp_path / f"home-{role}"
        monkeypatch.setenv("MEDPERF_HOME", str(home))
        if not home.exists():
            assert run(["profile", "set", "--server", server.url]) == 0
            if role != "anon":
                assert run(["auth", "login", "-e", DEMO_EMAILS[role]]) == 0

    return switch


@pytest.fixture
def medperf(capsys: pytest.CaptureFixture[str]) -> Medperf:
    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def refused(medperf: Medperf, *args: str, says: str) -> None:
    code, out, err = medperf(*args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, out
    assert len(lines) == 1 and lines[0].startswith("❌ Error:"), err
    assert says in lines[0], lines[0]
    assert "Traceback" not in out + err


NOT_LOGGED_IN = "is not logged in"


def check(medperf: Medperf, role: str, allowed: tuple[str, ...], refusal: str, *args: str) -> str:
    """Run the command as `role`: the allowed roles succeed (their output is returned), the others are refused."""
    if role in allowed:
        code, out, err = medperf(*args)
        assert code == 0, out + err
        return out
    refused(medperf, *args, says=NOT_LOGGED_IN if role == "anon" else refusal)
    return ""


ROLES = ("admin", "bo", "mo", "do", "anon")


@pytest.mark.parametrize("command", ["approve", "reject"])
@pytest.mark.parametrize("role", ROLES)
def test_benchmark_approve_and_reject(
    clients: dict[str, Client], become: Become, medperf: Medperf, role: str, command: str
) -> None:
    b = make_benchmark(clients["bo"])["id"]
    become(role)
    out = check(medperf, role, ("admin",), "only an admin", "benchmark", command, "-b", str(b))
    status = clients["admin"].ok("GET", f"/benchmarks/{b}/")["approval_status"]
    decided = {"approve": "APPROVED", "reject": "REJECTED"}[command]
    assert status == (decided if role == "admin" else "PENDING")
    if out:
        assert f"✅ Benchmark {b}: {decided}" in out


@pytest.mark.parametrize("role", ROLES)
def test_benchmark_update_associations_policy(
    clients: dict[str, Client], become: Become, medperf: Medperf, role: str
) -> None:
    b = make_benchmark(clients["bo"], approved_by=clients["admin"])["id"]
    become(role)
    check(medperf, role, ("bo",), f"only the owner of benchmark {b}", "benchmark", "update_associations_policy",
          "-b", str(b), "--model_auto_approve_mode", "ALLOWLIST", "--model_auto_approve_allowlist",
          "testmo@example.com")
    row = clients["admin"].ok("GET", f"/benchmarks/{b}/")
    expected = (("ALLOWLIST", ["testmo@example.com"], 1) if role == "bo" else ("NEVER", [], 0))
    assert (row["model_auto_approval_mode"], row["model_auto_approval_allow_list"],
            row["association_policy_version"]) == expected


@pytest.mark.parametrize(
    ("command", "extra", "field", "value"),
    [("approve", (), "approval_status", "APPROVED"), ("reject", (), "approval_status", "REJECTED"),
     ("set_priority", ("-p", "7"), "priority", 7)],
    ids=["approve", "reject", "set_priority"],
)
@pytest.mark.parametrize("role", ROLES)
def test_model_association_decisions(
    clients: dict[str, Client], world: dict[str, int], become: Become, medperf: Medperf, role: str,
    command: str, extra: tuple[str, ...], field: str, value: object,
) -> None:
    x = make_container(clients["mo"])["id"]
    b = world["B"]
    clients["mo"].ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": x, "benchmark": b})
    before = clients["bo"].ok("GET", f"/mlcubes/{x}/benchmarks/{b}/")
    become(role)
    check(medperf, role, ("bo",), f"benchmark {b}", "association", command, "-b", str(b), "-m", str(x), *extra)
    after = clients["bo"].ok("GET", f"/mlcubes/{x}/benchmarks/{b}/")
    if role == "bo":
        assert after[field] == value
    else:
        assert after == before


@pytest.mark.parametrize("command", [("container", "associate", "--benchmark"),
                                     ("benchmark", "associate", "--benchmark_uid")], ids=["container", "benchmark"])
@pytest.mark.parametrize("role", ("admin", "bo", "do", "anon"))
def test_only_the_model_owner_associates_its_model(
    clients: dict[str, Client], world: dict[str, int], become: Become, medperf: Medperf, role: str,
    command: tuple[str, str, str],
) -> None:
    """Refused before any container runs (the model owner's own request runs the test: tests/e2e)."""
    x = make_container(clients["mo"])["id"]
    become(role)
    refused(medperf, *command, str(world["B"]), "--model_uid", str(x), "-y",
            says=NOT_LOGGED_IN if role == "anon" else f"container {x} is not yours")
    assert clients["mo"].get(f"/mlcubes/{x}/benchmarks/{world['B']}/").status_code == 404


@pytest.mark.parametrize("command", [("result", "ls", "--benchmark"), ("benchmark", "view", "--results")],
                         ids=["result-ls", "benchmark-view"])
@pytest.mark.parametrize("role", ROLES)
def test_only_the_benchmark_owner_and_admins_see_all_its_results(
    world: dict[str, int], become: Become, medperf: Medperf, role: str, command: tuple[str, str, str]
) -> None:
    group, name, flag = command
    args = (group, name, flag, str(world["B"])) if flag == "--benchmark" else (group, name, str(world["B"]), flag)
    become(role)
    # `result ls --benchmark` is also everyone's list of their own local results of the benchmark (MedPerf's);
    # `benchmark view --results` shows everyone their own submitted results, as the page does
    allowed = ("admin", "bo", "mo", "do")
    out = check(medperf, role, allowed, f"benchmark {world['B']}", *args)
    if group == "result":
        submitted = any(line.split()[:2] == [str(world["R"]), str(world["B"])] and "acc=0.5" in line
                        for line in out.splitlines())
        assert submitted == (role in ("admin", "bo")), out
    elif role in ("admin", "bo", "do"):  # do submitted R
        assert "Ranking by acc (" in out, out
        rows = out.split("Results per model and dataset:")[1].splitlines()[3:]
        # (other tests of the session may add results to B: R must be among them)
        assert str(world["R"]) in [line.split()[0] for line in rows if line.strip()], out
    elif role == "mo":
        assert "0 of your results" in out, out


def test_anonymous_submissions_are_refused_before_any_work(
    clients: dict[str, Client], world: dict[str, int], become: Become, medperf: Medperf, tmp_path: Path
) -> None:
    config = tmp_path / "container_config.yaml"
    config.write_text("container_type: DockerImage\nimage: medperf-nowhere/never:1\ntasks: {infer: {}}\n",
                      encoding="utf-8")
    containers = clients["admin"].ok("GET", "/mlcubes/")["count"]
    benchmarks = clients["admin"].ok("GET", "/benchmarks/")["count"]
    become("anon")
    refused(medperf, "container", "submit", "--name", unique("c"), "--container-config-file", str(config), "-y",
            says=NOT_LOGGED_IN)
    refused(medperf, "benchmark", "submit", "--name", unique("b"), "--demo-url", "https://example.org/d.tar.gz",
            "-p", str(world["prep"]), "-m", str(world["ref"]), "-e", str(world["prep"]), "-y", says=NOT_LOGGED_IN)
    assert clients["admin"].ok("GET", "/mlcubes/")["count"] == containers
    assert clients["admin"].ok("GET", "/benchmarks/")["count"] == benchmarks


@pytest.mark.parametrize("role", ("bo", "mo"))
def test_benchmark_view_mine_shows_only_the_callers_benchmarks(
    clients: dict[str, Client], world: dict[str, int], become: Become, medperf: Medperf, role: str
) -> None:
    become(role)
    code, out, err = medperf("benchmark", "view", "--mine", "--json")
    assert code == 0, err
    shown = {b["id"] for b in json.loads(out)}
    owned = {b["id"] for b in clients[role].ok("GET", "/me/benchmarks/?limit=1000")["results"]}
    assert shown == owned and (world["B"] in shown) == (role == "bo")
