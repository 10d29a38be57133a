"""The tutorial images live in the local registry, and what the tutorials register and write names them there by
digest: the registry holds exactly the image whose id is registered as image_hash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from _server_helpers import run_medperf

from medperf_core.containers.config import loads_container_config
from medperf_core.containers.registry import image_config, parse_image, pinned
from medperf_core.domain.resources import CONTAINER
from medperf_core.errors import RunnerError
from medperf_core.server.services import ServerServices
from medperf_core.testing.registry import require_registry
from medperf_core.testing.runner_contract import require_engine
from medperf_core.tutorial.images import (
    DEFAULT_REGISTRY,
    TutorialContainer,
    TutorialImage,
    publish_tutorial_images,
    tutorial_containers,
)
from medperf_core.tutorial.workspace import FOLDERS, make_workspace

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def images() -> dict[str, TutorialImage]:
    from medperf_docker.runner import DockerRunner

    require_engine(DockerRunner())
    require_registry(DEFAULT_REGISTRY)
    return publish_tutorial_images()


def test_every_tutorial_image_is_in_the_registry_by_digest(images: dict[str, TutorialImage]) -> None:
    assert sorted(images) == sorted(c.name for c in tutorial_containers())
    for container in tutorial_containers():
        image = images[container.name]
        assert pinned(image.reference), image
        assert parse_image(image.reference).name == f"{DEFAULT_REGISTRY}/{parse_image(container.image).name}"
        assert image_config(image.reference)[0] == image.image_id  # the registry's config digest is the image id
    started = time.monotonic()
    assert publish_tutorial_images() == images  # already there: nothing pushed again
    assert time.monotonic() - started < 15


def test_the_config_names_the_pushed_image_and_nothing_else_changes(images: dict[str, TutorialImage]) -> None:
    for container in tutorial_containers():
        original = container.config_path.read_text(encoding="utf-8")
        text = container.config_text(images[container.name].reference)
        assert loads_container_config(text).image == images[container.name].reference
        assert text.replace(images[container.name].reference, container.image) == original
    odd = TutorialContainer("prep", "prep", tutorial_containers()[0].folder, "medperf-tutorial/other:1")
    with pytest.raises(RunnerError, match="does not name its image as `image: medperf-tutorial/other:1`"):
        odd.config_text("localhost:5000/x@sha256:" + "0" * 64)


def test_the_workspace_configs_name_the_pushed_images(images: dict[str, TutorialImage], tmp_path: Path) -> None:
    make_workspace(tmp_path, "benchmark", images={n: i.reference for n, i in images.items()})
    for folder, (name, _tarball) in FOLDERS.items():
        config = yaml.safe_load((tmp_path / folder / "container_config.yaml").read_text(encoding="utf-8"))
        assert config["image"] == images[name].reference


def test_the_seeded_containers_name_their_image_by_registry_and_digest(
    images: dict[str, TutorialImage], tmp_path: Path
) -> None:
    data = tmp_path / "server"
    done = run_medperf("server", "seed", "--demo", "data", "--data-dir", str(data), home=str(tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    services = ServerServices.open(data)
    try:
        rows = services.reads.list(CONTAINER, None, 0).results
    finally:
        services.close()
    by_reference = {image.reference: image for image in images.values()}
    assert len(rows) == 4
    for row in rows:
        image = by_reference[row["container_config"]["image"]]
        assert row["image_hash"] == image.image_id.removeprefix("sha256:")
        published = yaml.safe_load((data / "files" / row["mlcube_hash"]).read_text(encoding="utf-8"))
        assert published == row["container_config"]  # the file MedPerf's client downloads says the same
