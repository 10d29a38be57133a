"""Fuzz the API for longer than the suite: schemathesis (every check, all phases) on a fresh server, as each role.

    PYTHONPATH=. .venv/bin/python benchmarks/fuzz_api.py [--seconds 120] [--seed 1]

Prints, per role, schemathesis' summary line; exits 1 when any run found a failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from medperf_core.testing.fuzzing import fuzz
from medperf_core.testing.server import DEMO_EMAILS, start_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=120, help="Per role and run.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="medperf-fuzz-"))
    failed = False
    with start_server(root / "data", env={"MEDPERF_HOME": str(root / "home")}) as server:
        for role in (*DEMO_EMAILS, "anon"):
            token = server.token(DEMO_EMAILS[role]) if role in DEMO_EMAILS else None
            for run in fuzz(server.api, token, max_time=args.seconds, workdir=root / role,
                            phases="examples,coverage,fuzzing,stateful", max_examples=100, seed=args.seed):
                lines = [line for line in run.stdout.splitlines() if "generated" in line or "passed" in line]
                print(f"{role}: {' | '.join(lines[-2:]) or run.stdout[-500:]}")
                failed |= run.returncode != 0
                if run.returncode != 0:
                    print(run.stdout[-8000:])
        if "Traceback" in server.log():
            print(server.log()[-3000:])
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
