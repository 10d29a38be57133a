"""Build the tutorial's Python base image locally with debootstrap (no registry needed), once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from medperf_core.containers.docker_cli import image_id
from medperf_core.containers.owned_images import HOME_LABEL, home_label
from medperf_core.errors import RunnerError

BASE_IMAGE = "medperf-tutorial/base:1"
SUITE = "bookworm"
PACKAGES = ("python3-minimal", "python3-numpy", "python3-pil", "python3-yaml")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_EXCLUDES = (
    "./usr/share/doc",
    "./usr/share/man",
    "./usr/share/locale",
    "./var/cache/apt",
    "./var/lib/apt/lists",
)


def debian_mirror(
    sources_dir: Path = Path("/etc/apt/sources.list.d"), sources_list: Path = Path("/etc/apt/sources.list")
) -> str:
    """The Debian mirror this machine's apt uses (read at build time, never hard-coded in what ships)."""
    if override := os.environ.get("MEDPERF_DEBIAN_MIRROR"):
        return override
    candidates: list[str] = []
    if sources_dir.is_dir():
        for path in sorted(sources_dir.glob("*.sources")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("URIs:"):
                    candidates.extend(line.split()[1:])
    if sources_list.is_file():
        for line in sources_list.read_text(errors="replace").splitlines():
            parts = line.split()
            if parts and parts[0] == "deb":
                candidates.extend(p for p in parts[1:] if "://" in p)
    for uri in candidates:
        if "security" not in uri:
            return uri
    return DEFAULT_MIRROR


def ensure_base_image(progress: Callable[[str], None] | None = None) -> str:
    """Return the base image's id, building it with debootstrap (about a minute, needs root) when missing."""
    say = progress or (lambda _message: None)
    if existing := image_id(BASE_IMAGE):  # also refuses clearly when the docker CLI is missing
        return existing
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        raise RunnerError(
            f"the base image {BASE_IMAGE} is missing and building it needs debootstrap as root",
            "run: sudo scripts/build-tutorial-images.sh",
        )
    mirror = debian_mirror()
    say(f"building {BASE_IMAGE} with debootstrap from {mirror} (about a minute)")
    with tempfile.TemporaryDirectory(prefix="medperf-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(rootfs),
                mirror,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), *[f"--exclude={e}" for e in _EXCLUDES], "-c", "."],
            stdout=subprocess.PIPE,
        )
        imported = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["python3"]',
                "--change",
                f"LABEL {HOME_LABEL}={json.dumps(home_label().partition('=')[2])}",
                "-",
                BASE_IMAGE,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        if tar.stdout is not None:
            tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise RunnerError(
                f"importing {BASE_IMAGE} failed: {imported.stderr.strip()}", "see the output above"
            )
    built = image_id(BASE_IMAGE)
    if built is None:
        raise RunnerError(f"{BASE_IMAGE} was imported but cannot be inspected", "check `docker images`")
    say(f"built {BASE_IMAGE} ({built[:19]})")
    return built
