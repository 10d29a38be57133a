"""Fuzz the API for longer than the suite: schemathesis (every check, all phases) on a fresh server, as each role.

    PYTHONPATH=. .venv/bin/python benchmarks/fuzz_api.py [--seconds 120] [--seed 1]

Prints, per role, schemathesis' summary line, then the totals as JSON (requests generated, operations tested,
unique failures, errors); exits 1 when any run found a failure.
"""

from __future__ import annotations

import argparse
import json
import re
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
    totals = {"requests": 0, "failures": 0, "errors": 0}
    operations: dict[str, int] = {}  # per role: operations tested (of the document's)
    with start_server(root / "data", env={"MEDPERF_HOME": str(root / "home")}) as server:
        for role in (*DEMO_EMAILS, "anon"):
            token = server.token(DEMO_EMAILS[role]) if role in DEMO_EMAILS else None
            for run in fuzz(server.api, token, max_time=args.seconds, workdir=root / role,
                            phases="examples,coverage,fuzzing,stateful", max_examples=100, seed=args.seed):
                lines = [line for line in run.stdout.splitlines() if "generated" in line or "passed" in line]
                print(f"{role}: {' | '.join(lines[-2:]) or run.stdout[-500:]}")
                failed |= run.returncode != 0
                found = counts(run.stdout)
                operations[role] = operations.get(role, 0) + found.pop("operations")
                for name, value in found.items():
                    totals[name] += value
                if run.returncode != 0:
                    print(run.stdout[-8000:])
        if "Traceback" in server.log():
            print(server.log()[-3000:])
            failed = True
    print(json.dumps({**totals, "operations_tested": operations, "operations_in_document": max(DOCUMENTED, default=0)}))
    return 1 if failed else 0


DOCUMENTED: set[int] = set()  # what schemathesis counted in the OpenAPI document


def counts(stdout: str) -> dict[str, int]:
    """What one schemathesis run reports: test cases generated, operations tested, unique failures, errors."""
    def number(pattern: str) -> int:
        found = re.findall(pattern, stdout)
        return int(found[-1]) if found else 0

    total = re.findall(r"Operations:\s+\d+ selected / (\d+) total", stdout)
    if total:
        DOCUMENTED.add(int(total[-1]))
    return {"requests": number(r"(\d+) generated"), "operations": number(r"Tested: (\d+)"),
            "failures": number(r"found (\d+) unique failures?"), "errors": number(r"(\d+) errored")}


if __name__ == "__main__":
    sys.exit(main())
