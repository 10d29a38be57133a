"""The tutorial's containers (prep, two models, metrics): where they live and how to build them, once.

python -m medperf_core.tutorial.images     # builds what is missing or changed, prints name → image id
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import attrs

from medperf_core.containers.owned_images import build_label_args
from medperf_core.errors import EngineUnavailableError, RunnerError
from medperf_core.tutorial.base_image import BASE_IMAGE, ensure_base_image

Role = Literal["prep", "model", "metrics"]
TUTORIAL_DIR_ENV = "MEDPERF_TUTORIAL_DIR"
SOURCE_LABEL = "org.medperf.source-hash"
_CONTAINERS: tuple[tuple[str, Role, str, str], ...] = (
    ("prep", "prep", "prep", "medperf-tutorial/prep:1"),
    ("model-ref", "model", "model_ref", "medperf-tutorial/model-ref:1"),
    ("model-cnn", "model", "model_cnn", "medperf-tutorial/model-cnn:1"),
    ("metrics", "metrics", "metrics", "medperf-tutorial/metrics:1"),
)


def tutorial_dir() -> Path:
    """examples/tutorial of this checkout (override with MEDPERF_TUTORIAL_DIR)."""
    override = os.environ.get(TUTORIAL_DIR_ENV)
    return Path(override) if override else Path(__file__).resolve().parents[2] / "examples" / "tutorial"


@attrs.frozen
class TutorialContainer:
    """One tutorial container: role, build folder, config, parameters and (models) additional files."""

    name: str
    role: Role
    folder: Path
    image: str

    @property
    def config_path(self) -> Path:
        return self.folder / "container_config.yaml"

    @property
    def parameters_path(self) -> Path:
        return self.folder / "parameters.yaml"

    @property
    def additional_files_path(self) -> Path | None:
        path = self.folder / "additional_files"
        return path if path.is_dir() else None

    def source_hash(self, base_id: str = BASE_IMAGE) -> str:
        """A digest of what goes into the image (base, Dockerfile, code): a changed source means a rebuild."""
        digest = hashlib.sha256(base_id.encode())
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and (path.name == "Dockerfile" or path.suffix == ".py"):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()


def tutorial_containers() -> list[TutorialContainer]:
    """The four tutorial containers, in benchmark order: prep, model-ref, model-cnn, metrics."""
    root = tutorial_dir()
    return [TutorialContainer(name, role, root / folder, image) for name, role, folder, image in _CONTAINERS]


def _inspect(image: str) -> tuple[str, str] | None:
    done = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{.Id}}}} {{{{index .Config.Labels "{SOURCE_LABEL}"}}}}',
            image,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    image_id, _, label = done.stdout.strip().partition(" ")
    return image_id, label


def _build(container: TutorialContainer, source_hash: str) -> None:
    done = subprocess.run(
        [
            "docker",
            "build",
            "--network",
            "none",
            "-q",
            "--label",
            f"{SOURCE_LABEL}={source_hash}",
            *build_label_args(),  # which MEDPERF_HOME built it: `storage cleanup --images` of that home only
            "-t",
            container.image,
            str(container.folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RunnerError(
            f"building {container.image} failed: {done.stderr.strip()[-400:]}",
            f"fix {container.folder / 'Dockerfile'} and run scripts/build-tutorial-images.sh again",
        )


def build_tutorial_images(progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """Build the base and tutorial images that are missing or out of date; returns container name → image id.

    Fast when everything exists: one `docker image inspect` per image.
    """
    say = progress or (lambda _message: None)
    try:
        base_id = ensure_base_image(say)
    except FileNotFoundError as e:
        raise EngineUnavailableError(
            "docker is not installed", "install with: sudo scripts/install-engines.sh"
        ) from e
    ids: dict[str, str] = {}
    for container in tutorial_containers():
        wanted = container.source_hash(base_id)
        found = _inspect(container.image)
        if found is None or found[1] != wanted:
            say(f"building {container.image}")
            _build(container, wanted)
            found = _inspect(container.image)
            if found is None:
                raise RunnerError(
                    f"{container.image} was built but cannot be inspected", "check `docker images`"
                )
        ids[container.name] = found[0]
    return ids


def main() -> None:
    for name, image_id in build_tutorial_images(lambda m: print(m, file=sys.stderr)).items():
        print(f"{name}\t{image_id}")


if __name__ == "__main__":
    main()
