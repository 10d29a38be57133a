"""A 2 MB test image (static busybox in a FROM scratch image), built locally when missing and reused."""

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
        done = subprocess.run(
            ["docker", "build", "--network", "none", "-q", "-t", name, tmp],
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
