"""The benchmarks of start-up and append speed run, with tiny sizes, and print their figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
