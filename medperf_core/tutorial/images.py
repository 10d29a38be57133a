"""The tutorial's containers (prep, two models, metrics): where they live, how to build them (once) and push them.

python -m medperf_core.tutorial.images     # builds what is missing or changed, pushes it, prints name → reference

MedPerf's client always pulls an image before it runs it, so the tutorial images live in a registry: the local one
that scripts/install-engines.sh starts (MEDPERF_TUTORIAL_REGISTRY, default localhost:5000; it may carry a
namespace, `localhost:5000/mine`; empty: no registry, configs keep naming the local tags). A pushed image is named
by registry and digest, `localhost:5000/medperf-tutorial/prep@sha256:...`: that digest exists only after the push,
so the configs the tutorials register and write are the checked-in ones with their `image:` line replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
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
REGISTRY_ENV = "MEDPERF_TUTORIAL_REGISTRY"
DEFAULT_REGISTRY = "localhost:5000"
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

    def config_text(self, reference: str | None = None) -> str:
        """The container config, naming `reference` (the pushed image by digest) instead of the local tag."""
        text = self.config_path.read_text(encoding="utf-8")
        if not reference or reference == self.image:
            return text
        pattern = re.compile(rf"^image:[ \t]*{re.escape(self.image)}[ \t]*$", re.MULTILINE)
        replaced, count = pattern.subn(f"image: {reference}", text)
        if count != 1:
            raise RunnerError(
                f"{self.config_path} does not name its image as `image: {self.image}` on a line of its own",
                f"put `image: {self.image}` back at the top level of {self.config_path}",
            )
        return replaced

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
        from medperf_core.containers.runner import DOCKER_HINT

        raise EngineUnavailableError("docker is not installed", DOCKER_HINT) from e
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


@attrs.frozen
class TutorialImage:
    """A built tutorial image: its id (the registered image_hash) and how configs name it (registry@digest)."""

    image_id: str
    reference: str


def tutorial_registry() -> str:
    """Where the tutorial images are pushed (`host:port[/namespace]`); "" when they stay local."""
    return os.environ.get(REGISTRY_ENV, DEFAULT_REGISTRY).strip().rstrip("/")


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def _pushed_reference(image_id: str, name: str) -> str | None:
    """A `name@sha256:...` Docker recorded for this image that the registry still holds."""
    from medperf_core.containers.registry import manifest_exists

    done = _docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", image_id)
    for reference in done.stdout.split() if done.returncode == 0 else []:
        if reference.startswith(f"{name}@") and manifest_exists(reference):
            return reference
    return None


def push_image(local: str, image_id: str, registry: str, say: Callable[[str], None]) -> str:
    """Push the local image to `registry/<its repository>` unless the registry already has it; its reference by
    digest. Fast when it is there: one inspect and one HEAD request."""
    from medperf_core.containers.registry import parse_image

    target = f"{registry}/{local}"
    name = parse_image(target).name
    if found := _pushed_reference(image_id, name):
        return found
    say(f"pushing {local} to {registry}")
    for args in (("tag", image_id, target), ("push", target)):
        done = _docker(*args)
        if done.returncode != 0:
            _docker("rmi", target)  # the tag alone (the image keeps its own): nothing left of a failed push
            raise RunnerError(
                f"cannot push the tutorial image {local} to the registry {registry}: "
                f"{(done.stderr.strip() or done.stdout.strip())[-300:]}",
                f"start a registry there (e.g. docker run -d -p 5000:5000 --restart always registry:2), or set "
                f"{REGISTRY_ENV}= to run the tutorial on the local images, without a registry",
            )
    if found := _pushed_reference(image_id, name):
        return found
    raise RunnerError(f"{target} was pushed but Docker recorded no digest for it", f"run `docker push {target}`")


def publish_tutorial_images(progress: Callable[[str], None] | None = None) -> dict[str, TutorialImage]:
    """Build what is missing or changed and push it to the tutorial registry; container name → TutorialImage."""
    say = progress or (lambda _message: None)
    ids = build_tutorial_images(say)
    registry = tutorial_registry()
    return {
        c.name: TutorialImage(ids[c.name], push_image(c.image, ids[c.name], registry, say) if registry else c.image)
        for c in tutorial_containers()
    }


def main() -> None:
    for name, image in publish_tutorial_images(lambda m: print(m, file=sys.stderr)).items():
        print(f"{name}\t{image.reference}\t{image.image_id}")


if __name__ == "__main__":
    main()
