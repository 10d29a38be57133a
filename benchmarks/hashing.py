"""The dataset hash (`folders_hash`, files hashed in parallel) against `sha256sum` over the same files in one run.

Builds a tree of N files totalling S bytes (sizes spread from a few KB to a few MB, in 100 folders), warms the OS
file cache once, then alternates the contenders R times and reports the median wall time of each, and checks that
the parallel digest equals the one-thread digest and the digest combined from sha256sum's output.

Run: python benchmarks/hashing.py [--files 10000] [--size-gb 2] [--runs 5] [--threads N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from medperf_core.services.hashing import combine, default_threads, folders_hash


def build_tree(root: Path, files: int, total: int, seed: int = 14) -> None:
    """Deterministic sizes (lognormal-ish spread) scaled to `total`; contents random, so nothing compresses."""
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0, 1.2) for _ in range(files)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    block = rng.randbytes(8 * 2**20)
    for i, size in enumerate(sizes):
        folder = root / f"folder{i % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"case{i:05d}.bin").open("wb") as f:
            f.write(i.to_bytes(8, "little"))  # every file differs
            left, offset = size - 8, (i * 7919) % len(block)
            while left > 0:
                piece = block[offset:offset + left]
                f.write(piece)
                left -= len(piece)
                offset = 0


def sha256sum(root: Path) -> tuple[float, str]:
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    start = time.perf_counter()
    done = subprocess.run(["sha256sum", "--", *names], cwd=root, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, combine(line.split()[0] for line in done.stdout.splitlines())


def ours(root: Path, threads: int) -> tuple[float, str]:
    start = time.perf_counter()
    digest = folders_hash([root], threads=threads)
    return time.perf_counter() - start, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="threads for the parallel run (default: as medperf)")
    parser.add_argument("--dir", type=Path, help="keep the tree here (reused when it exists)")
    args = parser.parse_args()
    threads = args.threads or default_threads()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="medperf-hash-bench-"))
    root = workdir / "tree"
    try:
        if not root.exists():
            started = time.perf_counter()
            build_tree(root, args.files, int(args.size_gb * 2**30))
            print(f"built {args.files} files, {args.size_gb} GiB in {time.perf_counter() - started:.1f} s")
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        print(f"tree: {args.files} files, {size / 2**30:.2f} GiB, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        sha256sum(root)  # warm the file cache: every contender then reads from memory
        names = ["sha256sum", "folders_hash 1 thread", f"folders_hash {threads} threads"]
        times: dict[str, list[float]] = {name: [] for name in names}
        digests: dict[str, str] = {}
        for _ in range(args.runs):
            for name in times:
                if name == "sha256sum":
                    elapsed, digest = sha256sum(root)
                else:
                    elapsed, digest = ours(root, 1 if name.endswith("1 thread") else threads)
                times[name].append(elapsed)
                digests[name] = digest
        if len(set(digests.values())) != 1:
            raise SystemExit(f"digests differ: {digests}")
        baseline = statistics.median(times["sha256sum"])
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:28s} median {median:6.2f} s  (min {min(values):.2f}, max {max(values):.2f}, "
                  f"{size / 2**20 / median:6.0f} MiB/s)  {baseline / median:4.2f}x sha256sum")
        print(f"digest {digests['sha256sum']} (all equal)")
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
