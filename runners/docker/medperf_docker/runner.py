"""The Docker runner: no network, read-only inputs, the caller's uid, a timeout, logs to a file; an image missing
locally is pulled (by digest when the config pins one) and then checked against the registered digest. A watchdog
removes the container when the client is killed."""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from medperf_core.containers.config import ContainerConfig
from medperf_core.containers.execution import (
    ImageDefaults,
    PreparedRun,
    check_image_hash,
    fail,
    finish_run,
    prepare_run,
)
from medperf_core.containers.gpus import parse_gpus
from medperf_core.containers.leftovers import LABEL_OWNER, labels, owner_alive
from medperf_core.containers.logs import LogSink
from medperf_core.containers.owned_images import record_pulled
from medperf_core.containers.registry import parse_image, pull_error
from medperf_core.containers.runner import DOCKER_HINT, RunRequest, RunResult
from medperf_core.containers.watchdog import Watchdog
from medperf_core.errors import EngineUnavailableError, RunnerError

if TYPE_CHECKING:
    import docker

_JOIN_LOGS_S = 10.0
_REMOVE_CONTAINER = "medperf_docker.removal:remove_container"  # the watchdog's action (imports the SDK, not here)


def rebuild_hint(image: str) -> str:
    return (
        f"pull it again (`docker rmi {image}`, then run again) or rebuild it with `docker build -t {image} "
        "<its folder>` (tutorial images: scripts/build-tutorial-images.sh)"
    )


def _layer_note(event: dict[str, Any], done: set[str]) -> str | None:
    """One line when a layer is finished (downloaded or already here), for the pull's progress on stderr."""
    status, layer = str(event.get("status", "")), str(event.get("id", ""))
    if layer and layer not in done and status in ("Pull complete", "Already exists"):
        done.add(layer)
        return f"  layer {layer}: {status.lower()}"
    return None


def pull(client: docker.DockerClient, image: str) -> None:
    """`docker pull image` through the SDK, a line per finished layer on stderr; RunnerError naming the image, the
    registry and the fix when it fails."""
    import docker

    ref = parse_image(image)
    build = f"build it: `docker build -t {image} ...`"
    sys.stderr.write(f"pulling {image} from {ref.host} …\n")
    started = time.monotonic()
    done: set[str] = set()
    try:
        for event in client.api.pull(ref.name, tag=ref.reference, stream=True, decode=True):
            if "error" in event:
                raise pull_error(image, str(event["error"]), local_hint=build)
            if note := _layer_note(event, done):
                sys.stderr.write(note + "\n")
    except docker.errors.APIError as e:
        raise pull_error(image, str(e.explanation or e), local_hint=build) from None
    except docker.errors.DockerException as e:
        raise pull_error(image, str(e)) from None
    sys.stderr.write(f"pulled {image} in {time.monotonic() - started:.1f} s\n")


def remove_leftovers(client: docker.DockerClient) -> list[str]:
    """Remove the containers of medperf clients on this host that no longer run; their names."""
    removed: list[str] = []
    try:
        leftovers = client.containers.list(all=True, filters={"label": LABEL_OWNER})
    except Exception:  # a listing error must not stop this client's own run
        return removed
    for container in leftovers:
        if not owner_alive(container.labels.get(LABEL_OWNER, "")):
            with contextlib.suppress(Exception):
                container.remove(force=True)
                removed.append(container.name)
    return removed


class DockerRunner:
    """Runs container tasks through the Docker engine with the docker SDK."""

    name = "docker"

    def __init__(self) -> None:
        self._client: docker.DockerClient | None = None

    def _docker(self) -> docker.DockerClient:
        if self._client is None:
            try:
                import docker
            except ImportError as e:
                raise EngineUnavailableError(
                    "the docker Python SDK is not installed", "pip install medperf-docker"
                ) from e
            try:
                client = docker.from_env()
                client.ping()
            except docker.errors.DockerException as e:
                from medperf_core.failures import reason

                where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
                raise EngineUnavailableError(
                    f"cannot reach the Docker engine at {where} ({reason(e)})", DOCKER_HINT
                ) from e
            self._client = client
            remove_leftovers(client)
        return self._client

    def check_available(self) -> None:
        self._docker()

    def image_hash(self, config: ContainerConfig) -> str:
        return self._inspect(config.image)[0]

    def _inspect(self, image: str) -> tuple[str, ImageDefaults]:
        """The local image's id and what it runs by default (its ENTRYPOINT, CMD and working directory); an image
        missing locally is pulled first."""
        import docker

        client = self._docker()
        try:
            try:
                found = client.images.get(image)
            except docker.errors.ImageNotFound:
                pull(client, image)
                found = client.images.get(image)
                record_pulled(image, str(found.id))  # `storage cleanup --images` may remove it, and only it
            return str(found.id), ImageDefaults.from_docker(found.attrs.get("Config"))
        except docker.errors.ImageNotFound:
            raise pull_error(image, "the engine reports the pull done but has no such image") from None
        except docker.errors.APIError as e:
            raise RunnerError(f"cannot inspect image {image}: {e.explanation or e}", rebuild_hint(image)) from e

    def run(self, request: RunRequest) -> RunResult:
        prepared = prepare_run(request)
        client = self._docker()
        digest, defaults = self._inspect(request.config.image)
        check_image_hash(prepared, digest, rebuild_hint(request.config.image))
        name = f"medperf-{uuid.uuid4().hex[:16]}"
        # Named before it exists, so the watchdog (removing it if this client is killed) starts beside the create
        with Watchdog.guard(_REMOVE_CONTAINER, name):
            container = None
            try:
                container = self._create(client, prepared, digest, defaults, name)
                exit_code, duration = self._start_and_wait(container, prepared)
            finally:
                with contextlib.suppress(Exception):  # already gone: nothing left to clean
                    if container is not None:
                        container.remove(force=True)
        return finish_run(prepared, exit_code, duration, digest)

    def _create(
        self, client: docker.DockerClient, prepared: PreparedRun, digest: str, defaults: ImageDefaults, name: str
    ) -> Any:
        from docker.types import DeviceRequest, Mount

        mounts = [Mount(m.target, str(m.source), type="bind", read_only=m.read_only) for m in prepared.mounts]
        gpus = parse_gpus(prepared.gpus)
        device_requests = None
        if gpus is not None:
            device_requests = [
                DeviceRequest(
                    count=gpus.count if not gpus.device_ids else None,
                    device_ids=list(gpus.device_ids) or None,
                    capabilities=[["gpu"]],
                )
            ]
        # The image's own ENTRYPOINT and CMD, resolved here with Docker's rules, so both engines run the same argv
        argv = list(prepared.argv(defaults))
        extra: dict[str, Any] = {"shm_size": prepared.task.shm_size} if prepared.task.shm_size else {}
        return client.containers.create(
            image=digest,  # the id we checked, not the tag, so a re-tag in between cannot swap the image
            name=name,
            entrypoint=argv[:1],
            command=argv[1:],
            mounts=mounts,
            network_disabled=True,
            network_mode="none",
            user=f"{os.getuid()}:{os.getgid()}",
            environment=prepared.environment,
            device_requests=device_requests,
            security_opt=["no-new-privileges"],
            cap_drop=["ALL"],
            labels={"org.medperf.task": prepared.task.name, **labels()},
            detach=True,
            **extra,
        )

    def _start_and_wait(self, container: Any, prepared: PreparedRun) -> tuple[int, float]:
        import requests

        request = prepared.request
        with LogSink(request.log_path, echo=request.show_logs) as sink:
            started = time.monotonic()
            container.start()
            pump = sink.pump(container.logs(stream=True, follow=True, stdout=True, stderr=True))
            try:
                status = container.wait(timeout=request.timeout) if request.timeout else container.wait()
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                container.kill()
                duration = time.monotonic() - started
                pump.join(_JOIN_LOGS_S)
                sink.note(f"timed out after {request.timeout:g} s; container killed")
                raise fail(prepared, f"timed out after {request.timeout:g} s and was killed") from None
            duration = time.monotonic() - started
            pump.join(_JOIN_LOGS_S)
        return int(status.get("StatusCode", -1)), duration
