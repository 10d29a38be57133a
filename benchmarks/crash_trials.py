"""Crash trials at scale: the client killed (SIGKILL) at random moments and at the server's commit, in every
data-owner command; prints trials / killed / verified / resumed / diverged as JSON.

    PYTHONPATH=. .venv/bin/python benchmarks/crash_trials.py --trials 300 [--platform docker] [--seed 1]

Needs the tutorial's images (scripts/build-tutorial-images.sh) and a running engine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from medperf_core.testing.crash_trials import Template, Trial, run_trials, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--platform", default="docker")
    parser.add_argument("--keep", type=Path, help="Work here and keep the diverged trials' folders.")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="medperf-crash-"))
    started = time.monotonic()
    template = Template(root, args.platform)

    def progress(done: list[Trial]) -> None:  # one line per trial on stderr: figures so far
        counts = {k: v for k, v in summary(done).items() if k != "problems"}
        print(json.dumps({**counts, "last": f"{done[-1].command}/{done[-1].mode}",
                          "seconds": round(time.monotonic() - started, 1)}), file=sys.stderr, flush=True)

    trials = run_trials(template, args.trials, args.seed, each=progress)
    report = {**summary(trials), "seconds": round(time.monotonic() - started, 1), "root": str(root)}
    print(json.dumps(report, indent=2))
    return 0 if report["diverged"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
