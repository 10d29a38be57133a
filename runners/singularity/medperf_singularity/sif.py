"""SIF images built once per Docker image id and cached under MEDPERF_HOME/sif, never rebuilt while valid; from
the local Docker engine, or from the image's registry when Docker does not have it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import attrs

from medperf_core.config import medperf_home
from medperf_core.containers.runner import APPTAINER_HINT, DOCKER_HINT
from medperf_core.errors import EngineUnavailableError, RunnerError

_build_lock = threading.Lock()


def sif_cache_dir(root: Path | None = None) -> Path:
    """`root` (default MEDPERF_HOME/sif): other runners keep their SIFs elsewhere, e.g. on a cluster's shared disk."""
    path = root if root is not None else medperf_home() / "sif"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sif_path(digest: str, root: Path | None = None) -> Path:
    """`<hex digest>.sif`: a changed image has a new id, so it gets a new SIF."""
    return sif_cache_dir(root) / f"{digest.split(':', 1)[-1]}.sif"


def docker_client() -> Any:
    """The Docker engine the SIF is converted from, or EngineUnavailableError."""
    try:
        import docker
    except ImportError as e:
        raise EngineUnavailableError(
            "the docker Python SDK is not installed", "pip install medperf-singularity"
        ) from e
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as e:
        from medperf_core.failures import reason

        where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise EngineUnavailableError(
            f"the Singularity runner converts local Docker images, but the Docker engine at {where} is unreachable "
            f"({reason(e)})",
            DOCKER_HINT,
        ) from e
    return client


@attrs.frozen
class ImageSource:
    """Where a SIF is built from: the local Docker engine (`docker-daemon://`) or a registry (`docker://`)."""

    image: str
    uri: str
    options: tuple[str, ...] = ()

    @classmethod
    def local(cls, image: str) -> ImageSource:
        return cls(image, f"docker-daemon://{image}")

    @classmethod
    def registry(cls, image: str) -> ImageSource:
        """`docker://` of the image's registry; plain HTTP (Apptainer's --no-https) for one on loopback."""
        from medperf_core.containers.registry import parse_image

        return cls(image, f"docker://{image}", ("--no-https",) if parse_image(image).plain_http else ())


def build_sif(source: ImageSource, digest: str, current_digest: Any, root: Path | None = None) -> Path:
    """Build the source into the cache (temp name, then atomic rename) unless already there.

    `current_digest()` is asked again after the build: if the tag moved meanwhile, the SIF is discarded.
    """
    target = sif_path(digest, root)
    if target.is_file() and target.stat().st_size > 0:
        return target
    from spython.main import Client

    with _build_lock:
        if target.is_file() and target.stat().st_size > 0:
            return target
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.sif")
        # spython's own build() hides the engine's error output; we build its command and keep stderr.
        command = [*Client._init_command("build"), *source.options, "--force", str(tmp), source.uri]
        # One line before and after (stderr: a live progress display keeps it above its status line): a first
        # build takes minutes and would otherwise look like a hung task.
        sys.stderr.write(f"building the SIF of {source.uri} (once per image, cached in {target.parent}) …\n")
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
            )
            if done.returncode != 0 or not tmp.is_file():
                last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
                where = (
                    "that the image exists locally" if source.uri.startswith("docker-daemon:")
                    else "that its registry runs and holds it"
                )
                raise RunnerError(
                    f"building a SIF from {source.uri} failed: {last[0][:300]}",
                    f"check {where} and that `apptainer build` works; {APPTAINER_HINT}",
                )
            if current_digest() != digest:
                raise RunnerError(
                    f"image {source.image} changed while its SIF was being built", "run the task again"
                )
            os.replace(tmp, target)
            sys.stderr.write(f"SIF of {source.image} built in {time.monotonic() - started:.1f} s\n")
        except OSError as e:
            raise EngineUnavailableError(f"cannot run {command[0]}: {e.strerror}", APPTAINER_HINT) from e
        finally:
            tmp.unlink(missing_ok=True)
    return target
