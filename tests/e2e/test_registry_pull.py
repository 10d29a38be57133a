"""The data owner's `dataset prepare` pulls the preparation image from the local registry when Docker lacks it.

Other engineers' tests use the shared tutorial images at the same time, so those are never removed: the tutorial
images are pushed under a registry namespace of this test's own (MEDPERF_TUTORIAL_REGISTRY), the seeded configs
name them there by digest, and only the local references under that namespace are removed before the prepare.
"""

from __future__ import annotations

import subprocess
import uuid
from typing import Any

import pytest
from _e2e import SUBMIT_ARGS

from medperf_core.containers.registry import parse_image, pinned
from medperf_core.testing.registry import (
    REGISTRY,
    TEST_NAMESPACE,
    delete_from_registry,
    present_locally,
    remove_local,
    require_registry,
)
from medperf_core.tutorial.images import REGISTRY_ENV, tutorial_containers


def _local_references(namespace: str) -> list[str]:
    """Every local tag and `name@digest` under the namespace (ours alone)."""
    done = subprocess.run(
        ["docker", "images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"],
        capture_output=True, text=True, check=True,
    )
    found = []
    for line in done.stdout.splitlines():
        repository, tag, digest = line.split()
        if repository.startswith(f"{namespace}/"):
            found += [f"{repository}:{tag}"] if tag != "<none>" else []
            found += [f"{repository}@{digest}"] if digest != "<none>" else []
    return found


def test_dataset_prepare_pulls_the_image_docker_does_not_have(
    tutorial_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = f"{require_registry()}/{TEST_NAMESPACE}/{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(REGISTRY_ENV, namespace)
    configs: dict[int, str] = {}
    try:
        tutorial = tutorial_factory()
        for container in tutorial.get("do", "/mlcubes/")["results"]:
            configs[container["id"]] = container["container_config"]["image"]
        expected = {f"{namespace}/{parse_image(c.image).name}" for c in tutorial_containers()}
        assert {parse_image(image).name for image in configs.values()} == expected, configs
        assert all(pinned(image) for image in configs.values()), configs
        prep = configs[1]
        remove_local(*_local_references(namespace))
        assert not present_locally(prep) and _local_references(namespace) == []

        tutorial.medperf(*SUBMIT_ARGS)
        done = tutorial.medperf("dataset", "prepare", "--data_uid", "1", "-y")
        assert f"pulling {prep} from {REGISTRY}" in done.stderr, done.stderr
        assert f"pulled {prep}" in done.stderr, done.stderr
        assert present_locally(prep)
        assert tutorial.server_dataset()["generated_uid"], "the prepared dataset's hash reached the server"
        tutorial.medperf("dataset", "set_operational", "--data_uid", "1", "-y")
        assert tutorial.server_dataset()["state"] == "OPERATION"
    finally:
        remove_local(*_local_references(namespace))
        for image in configs.values():
            delete_from_registry(image)
