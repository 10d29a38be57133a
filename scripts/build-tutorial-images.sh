#!/usr/bin/env bash
# Builds the tutorial's images (base by debootstrap, then prep, two models, metrics) when missing or changed.
# The first run needs root for debootstrap (about a minute); later runs only inspect the images.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
[ -x "$python" ] || python=python3
exec "$python" -m medperf_core.tutorial.images "$@"
