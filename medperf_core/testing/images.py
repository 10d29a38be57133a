"""Test images built locally when missing and reused: a 2 MB static busybox in a FROM scratch image, and on top of
it one with an ENTRYPOINT script, for containers that rely on the image's own ENTRYPOINT and CMD."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from medperf_core.containers.docker_cli import image_id
from medperf_core.errors import RunnerError

TEST_IMAGE = "medperf-testing/busybox:1"
_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/work"]
RUN ["/bin/busybox", "chmod", "1777", "/tmp"]
WORKDIR /work
CMD ["sh"]
"""


def _static_busybox() -> Path:
    for candidate in (Path("/bin/busybox"), Path("/usr/bin/busybox")):
        if candidate.is_file():
            out = subprocess.run(
                ["file", "-L", str(candidate)], capture_output=True, text=True, check=False
            ).stdout
            if "statically linked" in out or not shutil.which("file"):
                return candidate
    raise RunnerError("no static busybox found to build the test image", "apt-get install -y busybox-static")


def ensure_test_image(name: str = TEST_IMAGE) -> str:
    """Return the id of the busybox test image, building it (a second or two) when missing."""
    if existing := image_id(name):
        return existing
    with tempfile.TemporaryDirectory(prefix="medperf-testimg-") as tmp:
        shutil.copy2(_static_busybox(), Path(tmp) / "busybox")
        (Path(tmp) / "Dockerfile").write_text(_DOCKERFILE)
        return _build(name, tmp)


ENTRYPOINT_IMAGE = "medperf-testing/entrypoint:1"
# The image's ENTRYPOINT: `<role> --name=value ...` (as MLCube and MedPerf's containers are called), or, when the
# image's CMD (`default`) runs, the role from $ROLE (default: evaluate) on MedPerf's usual mount paths.
ENTRY_SCRIPT = r"""#!/bin/sh
role="$1"
[ $# -gt 0 ] && shift
[ "$role" = default ] && role="${ROLE:-evaluate}"
data_path=/mlcommons/volumes/data
labels_path=/mlcommons/volumes/labels
parameters_file=/mlcommons/volumes/parameters/parameters.yaml
predictions=/mlcommons/volumes/predictions
labels=/mlcommons/volumes/labels
output_path=""
output_labels_path=""
weights=""
note=""
for arg in "$@"; do
  case "$arg" in
    --data_path=*) data_path="${arg#*=}" ;;
    --labels_path=*) labels_path="${arg#*=}" ;;
    --parameters_file=*) parameters_file="${arg#*=}" ;;
    --predictions=*) predictions="${arg#*=}" ;;
    --labels=*) labels="${arg#*=}" ;;
    --output_path=*) output_path="${arg#*=}" ;;
    --output_labels_path=*) output_labels_path="${arg#*=}" ;;
    --weights=*) weights="${arg#*=}" ;;
    --note=*) note="${arg#*=}" ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
echo "entrypoint: role=$role"
case "$role" in
  prepare)
    cp "$data_path/hello.txt" "$output_path/hello.txt" || exit 4
    cp "$labels_path/labels.txt" "$output_labels_path/labels.txt" || exit 4
    cat "$parameters_file" > "$output_path/params.txt"
    printf '%s
' "$note" > "$output_path/note.txt"
    printf '%s
' "$MEDPERF_TEST_ENV" > "$output_path/env.txt" ;;
  sanity_check)
    if [ ! -s "$data_path/hello.txt" ] || [ ! -s "$labels_path/labels.txt" ]; then
      echo "sanity check failed: no hello.txt or labels.txt" >&2; exit 3
    fi ;;
  statistics)
    echo "files: $(ls "$data_path" | wc -l | tr -d ' ')" > "$output_path" ;;
  infer)
    out="${output_path:-/mlcommons/volumes/predictions}"
    cat "$data_path/hello.txt" > "$out/pred.txt"
    cat "$parameters_file" >> "$out/pred.txt"
    if [ -n "$weights" ]; then cat "$weights" >> "$out/pred.txt"; fi
    df -k /dev/shm | tail -n 1 | awk '{print $2}' > "$out/shm_kb.txt" ;;
  evaluate)
    out="${output_path:-/mlcommons/volumes/results/results.yaml}"
    echo "predicted: $(head -n 1 "$predictions/pred.txt")" > "$out"
    echo "labels: $(cat "$labels/labels.txt")" >> "$out" ;;
  *) echo "unknown role: $role" >&2; exit 9 ;;
esac
"""
_ENTRYPOINT_DOCKERFILE = f"""\
FROM {TEST_IMAGE}
COPY entry.sh /entry.sh
ENTRYPOINT ["/bin/sh", "/entry.sh"]
CMD ["default"]
"""


def ensure_entrypoint_image(name: str = ENTRYPOINT_IMAGE) -> str:
    """Return the id of the busybox image whose ENTRYPOINT is ENTRY_SCRIPT and CMD `default`, built when missing."""
    ensure_test_image(TEST_IMAGE)
    if existing := image_id(name):
        return existing
    with tempfile.TemporaryDirectory(prefix="medperf-testimg-") as tmp:
        (Path(tmp) / "entry.sh").write_text(ENTRY_SCRIPT)
        (Path(tmp) / "Dockerfile").write_text(_ENTRYPOINT_DOCKERFILE)
        return _build(name, tmp)


def _build(name: str, context: str) -> str:
    done = subprocess.run(
        ["docker", "build", "--network", "none", "-q", "-t", name, context],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RunnerError(
            f"building the test image {name} failed: {done.stderr.strip()[-500:]}", "is dockerd running?"
        )
    built = image_id(name)
    if built is None:
        raise RunnerError(f"the test image {name} was built but cannot be inspected", "check `docker images`")
    return built
