"""The Docker images this medperf home created (built with its label, or pulled and recorded), listed and removed
through the docker CLI for `storage ls` and `storage cleanup --images`. Never by force: a built image goes by its id
(Docker refuses while another name or a container references it), a pulled one by the reference medperf pulled
(another tag of the same image keeps it). Images other people (or other homes) have on a shared engine are never
touched."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from medperf_core.containers.owned_images import HOME_LABEL, OwnedImage, home_label, pulled_records


class DockerImages:
    """The Docker runner's `ImageOwner`."""

    def owned_images(self) -> list[OwnedImage]:
        return owned_images()

    def remove(self, image: OwnedImage) -> str | None:
        return remove_image(image)


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
    for reference, image_id in sorted(pulled_records().items()):
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
