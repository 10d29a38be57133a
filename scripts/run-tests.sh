#!/usr/bin/env bash
# Sets the checkout up (scripts/setup.sh: engines, .venv, tutorial images) and runs the whole test suite,
# container and end-to-end tests included. Extra arguments go to pytest, e.g.:
#   scripts/run-tests.sh -x -m "not e2e"        scripts/run-tests.sh tests/store
# With CI=1 in the environment a missing container engine fails the container tests instead of skipping them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
printf '[tests] .venv/bin/pytest -q %s\n' "$*" >&2
exec "$root/.venv/bin/pytest" -q "$@"
