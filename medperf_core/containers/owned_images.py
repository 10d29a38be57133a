"""Docker images this medperf created, and only those: every image medperf builds or imports carries the label
`org.medperf.home=<MEDPERF_HOME>` of the home that made it, and every image the Docker runner pulls is recorded
(reference and id) in `MEDPERF_HOME/pulled-images.jsonl`. `storage cleanup --images` removes only these, and never
by force: a built image goes by its id (Docker refuses while another name or a container references it), a pulled
one by the reference medperf pulled (another tag of the same image keeps it). Images other people (or other
homes) have on a shared engine are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import attrs

from medperf_core.config import medperf_home

HOME_LABEL = "org.medperf.home"
PULLED_FILE = "pulled-images.jsonl"


def home_label() -> str:
    """`org.medperf.home=<this MEDPERF_HOME>`, for `docker build --label` and `docker import --change LABEL`."""
    return f"{HOME_LABEL}={medperf_home().resolve()}"


def build_label_args() -> list[str]:
    return ["--label", home_label()]


def pulled_file() -> Path:
    return medperf_home() / PULLED_FILE


def record_pulled(reference: str, image_id: str) -> None:
    """Remember that this home pulled `reference` (as the image `image_id`); one appended line, best effort."""
    line = json.dumps({"reference": reference, "id": image_id, "at": round(time.time())}) + "\n"
    with contextlib.suppress(OSError):
        pulled_file().parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(pulled_file(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def _pulled_records() -> dict[str, str]:
    """reference → image id, the latest record of each reference."""
    records: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in pulled_file().read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                row = json.loads(line)
                records[str(row["reference"])] = str(row["id"])
    return records


@attrs.frozen
class OwnedImage:
    """One local image this home built (labelled) or pulled (recorded): its id (`sha256:...`), its names, size in
    bytes, and the one reference `storage cleanup --images` removes (the id of a built image, the pulled
    reference of a pulled one)."""

    id: str
    tags: tuple[str, ...]
    size: int
    remove_by: str = ""
    how: str = "built"

    @property
    def name(self) -> str:
        return ", ".join(self.tags) or "<untagged>"


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    """The docker CLI; an engine that does not answer within two minutes counts as a failed command."""
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=120)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(["docker", *args], 124, "", "the Docker engine did not answer in 120 s")


def _inspect(*references: str) -> list[dict[str, Any]]:
    done = _docker("image", "inspect", *references)
    try:  # with several references, a missing one fails the command but the others are still printed
        rows = json.loads(done.stdout) if done.stdout.strip() else []
    except ValueError:
        return []
    return [r for r in rows if isinstance(r, dict)]


def owned_images() -> list[OwnedImage]:
    """The local images this home built (labelled) or pulled (recorded, still present with the recorded id); []
    when there is no docker CLI or engine."""
    if shutil.which("docker") is None:
        return []
    listed = _docker("image", "ls", "-q", "--no-trunc", "--filter", f"label={home_label()}")
    ids = sorted(set(listed.stdout.split())) if listed.returncode == 0 else []
    home = home_label().partition("=")[2]
    images: dict[str, OwnedImage] = {}
    for row in _inspect(*ids) if ids else []:
        labels = (row.get("Config") or {}).get("Labels") or {}
        if labels.get(HOME_LABEL) == home:  # the filter, checked again
            image_id = str(row["Id"])
            images[image_id] = OwnedImage(image_id, tuple(row.get("RepoTags") or ()), int(row.get("Size") or 0),
                                          remove_by=image_id)
    for reference, image_id in sorted(_pulled_records().items()):
        if image_id in images:
            continue
        found = _inspect(reference)
        if found and str(found[0].get("Id")) == image_id:  # still the image pulled (a tag may have moved)
            images[f"{image_id} {reference}"] = OwnedImage(image_id, (reference,), int(found[0].get("Size") or 0),
                                                           remove_by=reference, how="pulled")
    return list(images.values())


def remove_image(image: OwnedImage) -> str | None:
    """`docker image rm` of the image's one reference, never forced: a built image with another name, or one a
    container still uses, stays. Returns Docker's reason when it refused, else None."""
    done = _docker("image", "rm", image.remove_by or image.id)
    if done.returncode == 0:
        return None
    reason = done.stderr.strip().splitlines()
    return reason[-1] if reason else f"docker image rm exited with {done.returncode}"
