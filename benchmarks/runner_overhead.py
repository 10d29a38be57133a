"""Overhead of the runners over the raw engine CLI for one task: python benchmarks/runner_overhead.py.

Slurm's raw baseline is `sbatch --wait --wrap` of the same `apptainer exec` command the Singularity row runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from medperf_core.containers.config import loads_container_config
from medperf_core.containers.runner import RunRequest
from medperf_core.errors import EngineUnavailableError
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image

CONFIG = loads_container_config(f"""\
image: {TEST_IMAGE}
tasks:
  copy:
    run_args: {{command: "sh -c 'cat /in/data/hello.txt > /out/data/copy.txt'"}}
    input_volumes: {{data_path: {{mount_path: /in/data, type: directory}}}}
    output_volumes: {{output_path: {{mount_path: /out/data, type: directory}}}}
""")
SHELL = ["sh", "-c", "cat /in/data/hello.txt > /out/data/copy.txt"]


def timed(action: Callable[[Path], None], work: Path, repetitions: int) -> list[float]:
    action(work / "warmup")
    times = []
    for i in range(repetitions):
        out = work / f"run{i}"
        started = time.perf_counter()
        action(out)
        times.append(time.perf_counter() - started)
        if not (out / "copy.txt").is_file():
            raise SystemExit(f"run {i} wrote no output")
    return times


def runner_action(runner: object, data: Path, logs: Path) -> Callable[[Path], None]:
    # As medperf runs tasks: with the registered digest, which the runner checks.
    digest = runner.image_hash(CONFIG)  # type: ignore[attr-defined]

    def act(out: Path) -> None:
        runner.run(  # type: ignore[attr-defined]
            RunRequest(
                config=CONFIG,
                task="copy",
                inputs={"data_path": data},
                outputs={"output_path": out},
                log_path=logs / f"{out.name}.log",
                expected_image_hash=digest,
                timeout=60,
            )
        )

    return act


def raw_action(prefix: Callable[[Path], list[str]]) -> Callable[[Path], None]:
    def act(out: Path) -> None:
        out.mkdir(parents=True)
        subprocess.run([*prefix(out), *SHELL], check=True, capture_output=True)

    return act


def apptainer_exec(data: Path, out: Path, sif: Path) -> list[str]:
    return [
        "apptainer",
        "exec",
        "--containall",
        "--no-home",
        "--net",
        "--network",
        "none",
        "--bind",
        f"{data}:/in/data:ro",
        "--bind",
        f"{out}:/out/data",
        str(sif),
    ]


def sbatch_wait(data: Path, sif: Path) -> Callable[[Path], None]:
    """The same `apptainer exec` as one raw batch job: `sbatch --wait --wrap`, its output next to `out`."""

    def act(out: Path) -> None:
        out.mkdir(parents=True)
        wrapped = shlex.join([*apptainer_exec(data, out, sif), *SHELL])
        command = ["sbatch", "--wait", "--quiet", f"--output={out}.slurm.log", "--wrap", wrapped]
        subprocess.run(command, check=True, capture_output=True)

    return act


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--repetitions", type=int, default=10)
    parser.add_argument("--only", action="append", help="measure only this engine (docker, singularity, slurm)")
    args = parser.parse_args()
    ensure_test_image()
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="medperf-bench-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        (data / "hello.txt").write_text("hello\n")
        os.environ["MEDPERF_HOME"] = str(work / "home")  # a private SIF cache
        from medperf_docker.runner import DockerRunner

        docker_raw = raw_action(
            lambda out: [
                "docker",
                "run",
                "--rm",
                "--network",
                "none",
                "--user",
                f"{os.getuid()}:{os.getgid()}",
                "-v",
                f"{data}:/in/data:ro",
                "-v",
                f"{out}:/out/data",
                TEST_IMAGE,
            ]
        )
        engines: list[tuple[str, object, Callable[[Path], None] | None]] = [
            ("docker", DockerRunner(), docker_raw)
        ]
        try:
            from medperf_singularity.runner import SingularityRunner
            from medperf_singularity.sif import sif_path

            singularity = SingularityRunner()
            singularity.check_available()
            sif = sif_path(singularity.image_hash(CONFIG))  # builds the SIF once, outside the timings
            engines.append(
                (
                    "singularity",
                    singularity,
                    raw_action(lambda out: apptainer_exec(data, out, sif)),
                )
            )
        except (ImportError, EngineUnavailableError) as e:
            print(f"singularity skipped: {e}", file=sys.stderr)
        try:
            from medperf_singularity.sif import sif_path
            from medperf_slurm.runner import SlurmRunner
            from medperf_slurm.settings import SlurmSettings

            shared = work / "shared"
            slurm = SlurmRunner(SlurmSettings(shared_dir=shared))
            slurm.check_available()
            slurm_sif = sif_path(slurm.image_hash(CONFIG), slurm.sif_dir())
            engines.append(("slurm", slurm, sbatch_wait(data, slurm_sif)))
        except (ImportError, EngineUnavailableError) as e:
            print(f"slurm skipped: {e}", file=sys.stderr)
        for name, runner, raw in engines:
            if args.only and name not in args.only:
                continue
            assert raw is not None
            raw_times = timed(raw, work / name / "raw", args.repetitions)
            ours = timed(
                runner_action(runner, data, work / name / "logs"), work / name / "runner", args.repetitions
            )
            rows.append((name, statistics.median(raw_times), statistics.median(ours)))
    print(f"one task ({' '.join(SHELL)}), {args.repetitions} repetitions each, medians:")
    print(f"{'engine':<12} {'raw CLI (s)':>12} {'runner (s)':>12} {'overhead (s)':>13} {'ratio':>7}")
    for name, raw_median, ours_median in rows:
        print(
            f"{name:<12} {raw_median:>12.3f} {ours_median:>12.3f} {ours_median - raw_median:>+13.3f} "
            f"{ours_median / raw_median:>7.2f}"
        )


if __name__ == "__main__":
    main()
