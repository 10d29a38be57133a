"""Every script in benchmarks/ runs at the head, at tiny sizes (seconds each), so that none can rot unnoticed.

These are smoke runs: they check that a script starts, does its work against the real parts (server, engines,
wrk) and prints its figures, not the figures themselves (speed is measured by running the scripts, never in tests).
A new script needs its tiny arguments here: `test_every_script_has_a_smoke_run` fails until it has them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"


@attrs.frozen
class Smoke:
    args: tuple[str, ...]
    prints: str  # a piece of what the script prints when it finished its work
    marks: tuple[pytest.MarkDecorator, ...] = ()
    timeout: float = 300


SMOKES: dict[str, Smoke] = {
    "core.py": Smoke(("--runs", "1", "--singles", "20", "--batches", "2", "--batch-size", "5",
                      "--replay-events", "200"), "replay"),
    "crash_trials.py": Smoke(("--trials", "1", "--seed", "1"), '"diverged": 0',
                             (pytest.mark.docker, pytest.mark.e2e), timeout=600),
    "fuzz_api.py": Smoke(("--seconds", "2",), "requests"),
    "hashing.py": Smoke(("--files", "20", "--size-gb", "0.001", "--runs", "1"), "files"),
    "parallel_run.py": Smoke(("--platform", "docker", "--parallel", "2", "--runs", "1"), "wall time",
                             (pytest.mark.docker, pytest.mark.e2e), timeout=900),
    "runner_overhead.py": Smoke(("-n", "1", "--only", "docker"), "docker", (pytest.mark.docker,)),
    "server_ab.py": Smoke(("a", "b", "--rounds", "1", "--seconds", "1", "--datasets", "10"), "req/s"),
    "server_load.py": Smoke(("--datasets", "10", "--duration", "1", "--only", "sqlite-1",
                             "--endpoints", "first", "--connections", "1"), "req/s"),
    "server_profile.py": Smoke(("--seconds", "2", "--datasets", "10", "--top", "3"), "samples"),
    "thread_hop.py": Smoke(("--trips", "50", "--rounds", "1"), "µs"),
    "startup.py": Smoke(("-n", "2", "--warmup", "0"), "medperf/anchor wall, median of pairs"),
    "append_vs_eventsourcing.py": Smoke(("--rounds", "1", "--batches", "2", "--batch-size", "3"), "events/s"),
    "apptainer_overhead.py": Smoke(("-n", "1"), "runner / raw", (pytest.mark.singularity,)),
}


def run_script(script: str, *args: str, where: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """One script of benchmarks/ as a user runs it, with a MEDPERF_HOME of its own under `where`."""
    env = {**os.environ, "MEDPERF_HOME": str(where / "home"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], cwd=where, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_every_script_has_a_smoke_run() -> None:
    scripts = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
    assert sorted(SMOKES) == scripts, "give each script in benchmarks/ its tiny arguments in SMOKES"


@pytest.mark.parametrize(
    "script", [pytest.param(name, marks=list(smoke.marks), id=name) for name, smoke in SMOKES.items()]
)
def test_the_script_runs_at_tiny_sizes(script: str, tmp_path: Path) -> None:
    smoke = SMOKES[script]
    done = run_script(script, *smoke.args, where=tmp_path, timeout=smoke.timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"benchmarks/{script} exited {done.returncode}:\n{output[-3000:]}"
    assert smoke.prints in output, f"benchmarks/{script} did not print {smoke.prints!r}:\n{output[-3000:]}"


# --- what the issue-24 benchmarks print: their figures, paired against their anchors -------------------------------


def _bench(where: Path, script: str, *args: str) -> str:
    done = run_script(script, *args, where=where)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_startup_benchmark_measures_help_and_its_anchor(tmp_path: Path) -> None:
    out = _bench(tmp_path, "startup.py", "-n", "2", "--warmup", "0")
    figures = re.findall(r"^(medperf|anchor) +wall median +([\d.]+) ms .* peak RSS median +([\d.]+) MiB", out, re.M)
    assert [name for name, _, _ in figures] == ["medperf", "anchor"]
    assert all(float(wall) > 0 and float(peak) > 1 for _, wall, peak in figures)
    assert re.search(r"^medperf/anchor wall, median of pairs: [\d.]+$", out, re.M)
    assert re.search(r"^budget 150 ms and 35 MiB: (within|OVER)", out, re.M)


def test_append_benchmark_pairs_ours_with_the_eventsourcing_recorders(tmp_path: Path) -> None:
    out = _bench(tmp_path, "append_vs_eventsourcing.py", "--rounds", "1", "--batches", "2", "--batch-size", "3")
    rates = re.findall(r"^(medperf|eventsourcing) .+? ([\d,]+) events/s .*synchronous=(\d)\)$", out, re.M)
    assert [side for side, _, _ in rates] == ["medperf", "eventsourcing", "eventsourcing"]
    assert all(int(rate.replace(",", "")) > 0 and synchronous == "2" for _, rate, synchronous in rates)
    assert len(re.findall(r"^medperf / SQLite(Application|Aggregate)Recorder: [\d.]+x", out, re.M)) == 2


@pytest.mark.singularity
def test_apptainer_benchmark_pairs_the_runner_with_raw_exec(tmp_path: Path) -> None:
    out = _bench(tmp_path, "apptainer_overhead.py", "-n", "1")
    assert re.search(r"^raw apptainer exec +[\d.]+ ms", out, re.M)
    assert re.search(r"^runner +[\d.]+ ms", out, re.M)
    assert re.search(r"^runner / raw, median of the pairs' ratios: [\d.]+x", out, re.M)
