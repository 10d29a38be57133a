"""Wall time of a 4-model `benchmark run` with --parallel 1 and --parallel N, through the real CLI and server.

Run: python benchmarks/parallel_run.py [--platform slurm] [--parallel 4] [--runs 1]

A fresh local server holds the tutorial benchmark with four models (the reference model, the second model and two
more registered from the second model's container); the data owner prepares the tutorial dataset, one untimed
`benchmark run` builds what the platform caches (SIFs), then `benchmark run --no-cache` is timed per setting.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from medperf_core.server.auth import DEMO_USERS
from medperf_core.server.seed import Publisher, container_body, seed_demo
from medperf_core.server.services import ServerServices
from medperf_core.testing.server import DEMO_EMAILS, free_port, start_server
from medperf_core.tutorial.images import publish_tutorial_images, tutorial_containers

SUBMIT = [
    "dataset", "submit", "--name", "bench", "--description", "d", "--location", "here",
    "--data_path", "medperf_tutorial/sample_raw_data/images",
    "--labels_path", "medperf_tutorial/sample_raw_data/labels", "--benchmark", "1", "-y",
]  # fmt: skip


def add_models(data_dir: Path, count: int, public_url: str) -> None:
    """Register `count` more models (the second model's container under new names), approved in benchmark 1."""
    images = publish_tutorial_images()
    cnn = next(c for c in tutorial_containers() if c.name == "model-cnn")
    services = ServerServices.open(data_dir)
    try:
        bo, mo = (services.users.identify(DEMO_USERS[f"test{r}@example.com"]) for r in ("bo", "mo"))
        for i in range(count):
            published = container_body(cnn, images["model-cnn"], Publisher(data_dir, public_url))
            body = {**published, "name": f"model-cnn-copy{i + 1}"}
            model = services.containers.create(mo, body)["id"]
            services.associations.request(mo, "model", {"model_mlcube": model, "benchmark": 1})
            services.associations.update(bo, "model", model, 1, {"approval_status": "APPROVED"})
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", default="slurm", choices=["docker", "singularity", "slurm"])
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    medperf = Path(sys.executable).with_name("medperf")
    with tempfile.TemporaryDirectory(prefix="medperf-parallel-") as tmp:
        root = Path(tmp)
        work, data_dir = root / "work", root / "server-data"
        work.mkdir()
        env = {**os.environ, "MEDPERF_HOME": str(root / "home")}
        env.pop("MEDPERF_PROFILE", None)

        def cli(*argv: str) -> str:
            done = subprocess.run([str(medperf), *argv], cwd=work, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"medperf {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
            return done.stdout

        port = free_port()  # the seed names its files by the address the server will answer at
        public_url = f"http://127.0.0.1:{port}"
        seed_demo(data_dir, "data", public_url=public_url)
        add_models(data_dir, 2, public_url)
        with start_server(data_dir, port, env={"MEDPERF_HOME": str(root / "server-home")}) as server:
            cli("profile", "set", "--server", server.url, "--platform", args.platform)
            cli("tutorial", "setup", "data")
            cli("auth", "login", "-e", DEMO_EMAILS["do"])
            cli(*SUBMIT)
            cli("dataset", "prepare", "--data_uid", "1", "-y")
            cli("dataset", "set_operational", "--data_uid", "1", "-y")
            cli("dataset", "associate", "--benchmark_uid", "1", "--data_uid", "1", "-y")
            cli("auth", "login", "-e", DEMO_EMAILS["bo"])
            cli("association", "approve", "-b", "1", "-d", "1")
            cli("auth", "login", "-e", DEMO_EMAILS["do"])
            run = ["benchmark", "run", "--benchmark", "1", "--data_uid", "1", "--no-cache"]
            out = cli(*run, "--parallel", str(args.parallel))  # untimed: builds what the platform caches
            if "Total number of models: 4" not in out or "4 ran successfully" not in out:
                raise SystemExit(f"expected four models to run:\n{out}")
            rows = []
            for parallel in (1, args.parallel):
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    cli(*run, "--parallel", str(parallel))
                    times.append(time.perf_counter() - started)
                rows.append((parallel, min(times)))
    print(f"`benchmark run --no-cache` of 4 models (infer + evaluate each) on {args.platform}, best of {args.runs}:")
    print(f"{'--parallel':>10} {'wall time (s)':>14}")
    for parallel, seconds in rows:
        print(f"{parallel:>10} {seconds:>14.2f}")


if __name__ == "__main__":
    main()
