"""`medperf association ls` against a real server: without a flag both kinds (dataset and model associations);
`-d` and `-m` (MedPerf's `-bd`, `-bm`) filter, `--approval-status` too."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from _server_helpers import Client, associate_dataset, make_benchmark, make_container, make_dataset

Medperf = Callable[..., tuple[int, str, str]]  # the `medperf` fixture (tests/cli/conftest.py)


@pytest.fixture
def inbox(clients: dict[str, Client]) -> dict[str, int]:
    """A benchmark of bo with an approved dataset association and a pending model association, both do's."""
    admin, bo, do = (clients[r] for r in ("admin", "bo", "do"))
    benchmark = make_benchmark(bo, state="OPERATION", approved_by=admin)
    b = benchmark["id"]
    x = make_container(do)["id"]
    do.ok("POST", "/mlcubes/benchmarks/", {"model_mlcube": x, "benchmark": b, "approval_status": "PENDING"})
    d = make_dataset(do, benchmark["data_preparation_mlcube"])["id"]
    associate_dataset(do, bo, d, b)
    return {"B": b, "X": x, "D": d}


def listed(medperf: Medperf, benchmark: int, *flags: str) -> set[tuple[str, int, str]]:
    code, out, err = medperf("do", "association", "ls", *flags, "--json")
    assert code == 0, err
    return {(r["kind"], r["entity"], r["approval_status"]) for r in json.loads(out) if r["benchmark"] == benchmark}


def test_without_a_flag_both_kinds_and_the_flags_filter(inbox: dict[str, int], medperf: Medperf) -> None:
    dataset, model = ("dataset", inbox["D"], "APPROVED"), ("model", inbox["X"], "PENDING")
    b = inbox["B"]
    assert listed(medperf, b) == {dataset, model}
    assert listed(medperf, b, "-b") == {dataset, model}
    assert listed(medperf, b, "-bd") == listed(medperf, b, "-d") == {dataset}
    assert listed(medperf, b, "-bm") == listed(medperf, b, "-m") == {model}
    assert listed(medperf, b, "-dm") == {dataset, model}
    assert listed(medperf, b, "--approval-status", "pending") == {model}
    code, out, _ = medperf("do", "association", "ls")
    assert code == 0
    kinds = {line.split()[0] for line in out.splitlines()[2:]}
    assert kinds == {"dataset", "model"}, out
