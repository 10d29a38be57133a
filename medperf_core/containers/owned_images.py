"""Which engine images this medperf home created, and only those: every image medperf builds or imports carries
the label `org.medperf.home=<MEDPERF_HOME>` of the home that made it, and every image the Docker runner pulls is
recorded (reference and id) in `MEDPERF_HOME/pulled-images.jsonl`. The runner that owns them lists and removes them
(`ImageOwner`, e.g. `medperf_docker.images`); `storage cleanup --images` asks it and never calls an engine itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

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


def pulled_records() -> dict[str, str]:
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
