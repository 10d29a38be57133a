"""One short task through the Apptainer runner against raw `apptainer exec` on the same SIF, paired in one run.

Run: python benchmarks/apptainer_overhead.py [-n 15]

The task copies a file from a read-only input mount to an output mount (busybox `sh -c 'cat ... > ...'`), in a
tiny test image built locally (medperf_core.testing.images) and converted to a SIF once, outside the timings. The
raw side is the `apptainer exec` command line the runner builds (--containall --no-home, no network, the image's
working directory, the two binds); the runner's side is `SingularityRunner.run` with the registered digest, as
`medperf` runs a task (its checks of mounts and outputs, the log file, the cached SIF). The two take turns (raw
first in half the pairs, the runner in the other half) and the ratio is taken pair by pair; the figures are
medians. Issue 24's budget: the runner within 1.10x raw.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from medperf_core.containers.config import loads_container_config
from medperf_core.containers.runner import RunRequest
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image

BUDGET = 1.10
SHELL = ["sh", "-c", "cat /in/data/hello.txt > /out/data/copy.txt"]
CONFIG = loads_container_config(f"""\
image: {TEST_IMAGE}
tasks:
  copy:
    run_args: {{command: "sh -c 'cat /in/data/hello.txt > /out/data/copy.txt'"}}
    input_volumes: {{data_path: {{mount_path: /in/data, type: directory}}}}
    output_volumes: {{output_path: {{mount_path: /out/data, type: directory}}}}
""")


def workdir(image: str) -> str:
    """The image's working directory (Apptainer's --pwd, which the runner passes too)."""
    inspected = subprocess.run(["docker", "image", "inspect", "-f", "{{.Config.WorkingDir}}", image],
                               capture_output=True, text=True, check=True)
    return inspected.stdout.strip() or "/"


def raw_exec(sif: Path, pwd: str, data: Path, out: Path) -> None:
    """The command line the runner builds for this task, run directly."""
    out.mkdir(parents=True)
    subprocess.run(
        ["apptainer", "exec", "--containall", "--no-home", "--net", "--network", "none", "--pwd", pwd,
         "--bind", f"{data}:/in/data:ro", "--bind", f"{out}:/out/data:rw", str(sif), *SHELL],
        check=True, capture_output=True,
    )


def end_notice_lag(wait: Callable[[subprocess.Popen[bytes]], object], runs: int = 20) -> float:
    """Median seconds a wait returns after a 0.3 s process (no container) started, past those 0.3 s."""
    lags = []
    for _ in range(runs):
        process = subprocess.Popen(["sleep", "0.3"], start_new_session=True)
        started = time.monotonic()
        wait(process)
        lags.append(time.monotonic() - started - 0.3)
    return statistics.median(lags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repetitions", type=int, default=15, help="pairs measured (default 15)")
    args = parser.parse_args(argv)
    ensure_test_image()
    with tempfile.TemporaryDirectory(prefix="medperf-bench-") as tmp:
        work = Path(tmp)
        os.environ["MEDPERF_HOME"] = str(work / "home")  # a private SIF cache
        from medperf_singularity.runner import SingularityRunner
        from medperf_singularity.sif import sif_path

        runner = SingularityRunner()
        runner.check_available()
        digest = runner.image_hash(CONFIG)  # builds the SIF once, outside the timings
        sif = sif_path(digest)
        data = work / "data"
        data.mkdir()
        (data / "hello.txt").write_text("hello\n")

        def through_runner(out: Path) -> None:
            runner.run(RunRequest(config=CONFIG, task="copy", inputs={"data_path": data},
                                  outputs={"output_path": out}, log_path=work / f"{out.name}.log",
                                  expected_image_hash=digest, timeout=600))

        pwd = workdir(TEST_IMAGE)
        sides = {"raw apptainer exec": lambda out: raw_exec(sif, pwd, data, out), "runner": through_runner}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for i in range(args.repetitions + 1):  # pair 0 warms up (the OS cache, the runner's imports)
            order = list(sides.items()) if i % 2 else list(sides.items())[::-1]  # who goes first alternates
            for name, act in order:
                out = work / f"{'raw' if name.startswith('raw') else 'runner'}{i}"
                started = time.perf_counter()
                act(out)
                elapsed = time.perf_counter() - started
                if (out / "copy.txt").read_text() != "hello\n":
                    raise SystemExit(f"{name}: run {i} did not copy the file")
                if i:
                    times[name].append(elapsed)
    raw, ours = times["raw apptainer exec"], times["runner"]
    ratios = [b / a for a, b in zip(raw, ours, strict=True)]
    version = subprocess.run(["apptainer", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; one task ({' '.join(SHELL)}), {args.repetitions} pairs, each side first in half; medians")
    for name, values in times.items():
        print(f"{name:<20} {statistics.median(values) * 1000:7.1f} ms  (min {min(values) * 1000:.1f}, "
              f"max {max(values) * 1000:.1f})")
    ratio = statistics.median(ratios)
    print(f"runner / raw, median of the pairs' ratios: {ratio:.3f}x (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"overhead {(statistics.median(ours) - statistics.median(raw)) * 1000:+.1f} ms")
    print(f"budget {BUDGET:.2f}x: {'within' if ratio <= BUDGET else 'OVER'}")
    from medperf_singularity.runner import wait_or_kill

    polled = end_notice_lag(lambda process: process.wait(timeout=600))
    blocking = end_notice_lag(lambda process: wait_or_kill(process, 600))
    print(f"a task's end noticed, median past a 0.3 s sleep: Popen.wait(timeout=...) {polled * 1000:.1f} ms, "
          f"the runner's wait {blocking * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
