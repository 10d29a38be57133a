"""The local registry in tests: check that it answers, push uniquely named test images, remove only those.

Every image pushed here lives under `medperf-test/<unique>` in the registry and locally: removing it never touches
an image another engineer's tests use.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import attrs
import pytest

from medperf_core.containers.registry import parse_image
from medperf_core.errors import RunnerError
from medperf_core.testing.images import TEST_IMAGE, ensure_test_image

REGISTRY = os.environ.get("MEDPERF_TEST_REGISTRY", "localhost:5000")
TEST_NAMESPACE = "medperf-test"
INSTALL_HINT = "start it with: sudo scripts/install-engines.sh"


def registry_available(registry: str = REGISTRY) -> str | None:
    """None when the registry serves the Docker registry API (`/v2/`), else why not."""
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/", timeout=5) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as e:
        return str(getattr(e, "reason", e))


def require_registry(registry: str = REGISTRY) -> str:
    """The registry's address; skip when it does not answer (fail when the CI env var is set)."""
    problem = registry_available(registry)
    if problem is not None:
        message = f"no registry on {registry} ({problem}); {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return registry


def _docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RunnerError(f"docker {' '.join(args)} failed: {done.stderr.strip()[-400:]}", "is dockerd running?")
    return done.stdout.strip()


def push(local: str, target: str) -> str:
    """Tag `local` as `target` (registry/repository:tag), push it; the pushed reference by digest."""
    _docker("tag", local, target)
    _docker("push", target)
    name = parse_image(target).name
    for digest_ref in _docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}",
                              target).split():
        if digest_ref.startswith(f"{name}@"):
            return digest_ref
    raise RunnerError(f"{target} was pushed but Docker recorded no digest for it", "check `docker push` by hand")


def remove_local(*references: str) -> None:
    """Remove these local references (tags, `name@digest`) only; an image stays while another tag names it."""
    for reference in references:
        subprocess.run(["docker", "rmi", reference], capture_output=True, check=False)


def present_locally(image: str) -> bool:
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    return done.returncode == 0


def delete_from_registry(reference: str) -> None:
    """Delete a pushed manifest (by digest) from the registry; what is left is unreachable and small."""
    ref = parse_image(reference)
    if ref.registry is None or ref.digest is None:
        return
    request = urllib.request.Request(
        f"http://{ref.registry}/v2/{ref.repository}/manifests/{ref.digest}", method="DELETE"
    )
    with contextlib.suppress(urllib.error.URLError, OSError):
        urllib.request.urlopen(request, timeout=10).close()


@attrs.frozen
class PushedImage:
    """A unique test image in the registry, absent from the local engine: `reference` is `registry/...@sha256:`."""

    reference: str
    tag: str
    image_id: str

    def remove(self) -> None:
        remove_local(self.reference, self.tag)
        delete_from_registry(self.reference)


def push_unique_image(registry: str = REGISTRY, base: str = TEST_IMAGE) -> PushedImage:
    """Build an image of its own (the busybox test image plus one unique layer), push it, remove every local copy."""
    ensure_test_image(TEST_IMAGE)
    unique = uuid.uuid4().hex[:12]
    tag = f"{registry}/{TEST_NAMESPACE}/{unique}:1"
    with tempfile.TemporaryDirectory(prefix="medperf-testimg-") as tmp:
        (Path(tmp) / "Dockerfile").write_text(
            f'FROM {base}\nLABEL org.medperf.test=registry\nRUN ["/bin/sh", "-c", "echo {unique} > /unique.txt"]\n'
        )
        _docker("build", "--network", "none", "-q", "-t", tag, tmp)
    image_id = _docker("image", "inspect", "--format", "{{.Id}}", tag)
    reference = push(tag, tag)
    remove_local(reference, tag)
    if present_locally(image_id):
        raise RunnerError(f"the test image {image_id} is still present after its removal", "check `docker images`")
    return PushedImage(reference, tag, image_id)
