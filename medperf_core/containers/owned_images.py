"""Docker images this medperf created, and only those: every image medperf builds or imports carries the label
`org.medperf.home=<MEDPERF_HOME>` of the home that made it. `storage cleanup --images` removes only images with
this home's label, so images other people (or other homes) have on a shared engine are never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import attrs

from medperf_core.config import medperf_home

HOME_LABEL = "org.medperf.home"


def home_label() -> str:
    """`org.medperf.home=<this MEDPERF_HOME>`, for `docker build --label` and `docker import --change LABEL`."""
    return f"{HOME_LABEL}={medperf_home().resolve()}"


def build_label_args() -> list[str]:
    return ["--label", home_label()]


@attrs.frozen
class OwnedImage:
    """One local image labelled with this home: its id (`sha256:...`), its `repo:tag` names and size in bytes."""

    id: str
    tags: tuple[str, ...]
    size: int

    @property
    def name(self) -> str:
        return ", ".join(self.tags) or "<untagged>"


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=120)


def owned_images() -> list[OwnedImage]:
    """The local images labelled with this home; [] when there is no docker CLI or engine."""
    if shutil.which("docker") is None:
        return []
    listed = _docker("image", "ls", "-q", "--no-trunc", "--filter", f"label={home_label()}")
    ids = sorted(set(listed.stdout.split())) if listed.returncode == 0 else []
    if not ids:
        return []
    inspected = _docker("image", "inspect", *ids)
    if inspected.returncode != 0:
        return []
    images = []
    for row in json.loads(inspected.stdout):
        labels = (row.get("Config") or {}).get("Labels") or {}
        if labels.get(HOME_LABEL) != home_label().partition("=")[2]:  # the filter, checked again
            continue
        images.append(OwnedImage(str(row["Id"]), tuple(row.get("RepoTags") or ()), int(row.get("Size") or 0)))
    return images


def remove_image(image: OwnedImage) -> str | None:
    """Untag every name of the image (the last one removes it) or remove it by id when it has none; never forced,
    so an image a container still uses stays. Returns Docker's reason when it refused, else None."""
    done = _docker("image", "rm", *(image.tags or (image.id,)))
    if done.returncode == 0:
        return None
    reason = done.stderr.strip().splitlines()
    return reason[-1] if reason else f"docker image rm exited with {done.returncode}"
