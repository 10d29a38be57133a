"""The benchmarks of issue 24 (start-up, appends, the Apptainer runner) run with tiny sizes and print their figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _bench(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_startup_benchmark_measures_help_and_its_anchor() -> None:
    out = _bench("startup.py", "-n", "2", "--warmup", "0")
    figures = re.findall(r"^(medperf|anchor) +wall median +([\d.]+) ms .* peak RSS median +([\d.]+) MiB", out, re.M)
    assert [name for name, _, _ in figures] == ["medperf", "anchor"]
    assert all(float(wall) > 0 and float(peak) > 1 for _, wall, peak in figures)
    assert re.search(r"^medperf/anchor wall, median of pairs: [\d.]+$", out, re.M)
    assert re.search(r"^budget 150 ms and 35 MiB: (within|OVER)", out, re.M)


def test_append_benchmark_pairs_ours_with_the_eventsourcing_recorders() -> None:
    out = _bench("append_vs_eventsourcing.py", "--rounds", "1", "--batches", "2", "--batch-size", "3")
    rates = re.findall(r"^(medperf|eventsourcing) .+? ([\d,]+) events/s .*synchronous=(\d)\)$", out, re.M)
    assert [side for side, _, _ in rates] == ["medperf", "eventsourcing", "eventsourcing"]
    assert all(int(rate.replace(",", "")) > 0 and synchronous == "2" for _, rate, synchronous in rates)
    assert len(re.findall(r"^medperf / SQLite(Application|Aggregate)Recorder: [\d.]+x", out, re.M)) == 2


@pytest.mark.singularity
def test_apptainer_benchmark_pairs_the_runner_with_raw_exec() -> None:
    out = _bench("apptainer_overhead.py", "-n", "1")
    assert re.search(r"^raw apptainer exec +[\d.]+ ms", out, re.M)
    assert re.search(r"^runner +[\d.]+ ms", out, re.M)
    assert re.search(r"^runner / raw, median of the pairs' ratios: [\d.]+x", out, re.M)
