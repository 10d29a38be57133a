"""Start-up of `medperf --help`, whole process: median wall time and peak memory over N runs, paired with an anchor.

Run: python benchmarks/startup.py [-n 20] [--vs 'OTHER COMMAND']

Each run starts `medperf --help` as a new process and reads the kernel's accounting of the finished child (wall time
from just before the start to just after it is reaped; peak resident memory). The anchor runs in turn with it
(A B A B ...), and the ratio is taken pair by pair, so a machine whose speed drifts still gives a fair ratio:
by default the anchor is the bare interpreter (`python -c pass`, the floor no Python command can beat); `--vs` names
another command instead, e.g. an older checkout's `medperf --help`. The budget of issue 24 is printed beside.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_S = 0.15
BUDGET_MIB = 35.0


def run_once(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MiB) of one whole run of `command`, its output discarded."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if process.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux reports KiB


def default_medperf() -> list[str]:
    script = Path(sys.executable).with_name("medperf")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-c", "import sys; from medperf_core.cli.main import main; sys.argv[0] = 'medperf'; main()",
            "--help"]


def summary(name: str, walls: list[float], cpus: list[float], peaks: list[float]) -> str:
    return (f"{name:<8} wall median {statistics.median(walls) * 1000:6.1f} ms (min {min(walls) * 1000:.1f}, "
            f"max {max(walls) * 1000:.1f}), CPU median {statistics.median(cpus) * 1000:6.1f} ms, "
            f"peak RSS median {statistics.median(peaks):5.1f} MiB (max {max(peaks):.1f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20, help="measured runs of each command (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="runs of each first, not counted (default 2)")
    parser.add_argument("--medperf", help="the command to measure (default: `medperf --help` beside this python)")
    parser.add_argument("--vs", help="the anchor command (default: the bare interpreter, `python -c pass`)")
    args = parser.parse_args(argv)
    ours = shlex.split(args.medperf) if args.medperf else default_medperf()
    anchor = shlex.split(args.vs) if args.vs else [sys.executable, "-c", "pass"]
    for _ in range(args.warmup):  # the OS file cache, as for any command a user runs twice
        run_once(ours)
        run_once(anchor)
    results: dict[str, tuple[list[float], list[float], list[float]]] = {"medperf": ([], [], []),
                                                                         "anchor": ([], [], [])}
    ratios = []
    for _ in range(args.runs):
        pair = []
        for name, command in (("medperf", ours), ("anchor", anchor)):
            figures = run_once(command)
            for column, figure in zip(results[name], figures, strict=True):
                column.append(figure)
            pair.append(figures[0])
        ratios.append(pair[0] / pair[1])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each, paired")
    print(f"medperf: {shlex.join(ours)}")
    print(f"anchor:  {shlex.join(anchor)}")
    print(summary("medperf", *results["medperf"]))
    print(summary("anchor", *results["anchor"]))
    print(f"medperf/anchor wall, median of pairs: {statistics.median(ratios):.2f}")
    wall, peak = statistics.median(results["medperf"][0]), max(results["medperf"][2])
    verdict = "within" if wall < BUDGET_S and peak < BUDGET_MIB else "OVER"
    print(f"budget {BUDGET_S * 1000:.0f} ms and {BUDGET_MIB:.0f} MiB: {verdict} (median {wall * 1000:.1f} ms, "
          f"max peak {peak:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
