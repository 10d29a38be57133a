"""Local image lookups through the docker CLI, for the image builders (the runners use the SDK)."""

from __future__ import annotations

import shutil
import subprocess

from medperf_core.errors import EngineUnavailableError


def image_id(name: str) -> str | None:
    """The local Docker image id of `name`, or None when it is not there."""
    if shutil.which("docker") is None:
        from medperf_core.containers.runner import DOCKER_HINT

        raise EngineUnavailableError("the docker CLI is not on PATH", DOCKER_HINT)
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None
