"""`medperf benchmark run` ends with the exact command that sends its results (as MedPerf's tutorial says), only
for results not yet sent; the command it prints works as printed.

The data owner's world of tests/services (the `local` backend, the fake runner with the tutorial's behaviour); the
same through Docker and a real server: tests/e2e/test_data_owner_tutorial.py."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from _owner_world import World, world
from test_data_owner import associated

from medperf_core.cli.main import run
from medperf_core.services.client import Client

__all__ = ["world"]  # the fixture


def medperf(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return out


def test_the_run_ends_with_the_submit_commands_of_its_unsent_results(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Client, "runner", property(lambda self: world.runner))  # the fake runner for the CLI's
    dataset = associated(world)
    b = world.benchmark
    ran = medperf(capsys, "benchmark", "run", "--benchmark", str(b), "--data_uid", str(dataset))
    uids = [f"b{b}m{m}d{dataset}" for m in sorted((world.reference, world.model))]
    assert ran.rstrip().splitlines()[-3:] == [
        "Next, send the results to the benchmark (only their metrics leave this machine):",
        *(f"  medperf result submit --result {uid}" for uid in uids),
    ], ran

    printed = ran.rstrip().splitlines()[-1].split()
    sent = medperf(capsys, *shlex.split(" ".join(printed[1:])), "-y")
    assert f"✅ Result {uids[-1]} submitted" in sent
    again = medperf(capsys, "benchmark", "run", "--benchmark", str(b), "--data_uid", str(dataset))
    assert again.rstrip().splitlines()[-2:] == [
        "Next, send the results to the benchmark (only their metrics leave this machine):",
        f"  medperf result submit --result {uids[0]}",
    ], again
