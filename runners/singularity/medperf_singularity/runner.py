"""The Singularity/Apptainer runner: Docker's mounts, isolation, timeout and checks, on a cached SIF; a watchdog kills
the container's process group when the client is killed."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from medperf_core.containers.config import ContainerConfig
from medperf_core.containers.execution import (
    ImageDefaults,
    PreparedRun,
    check_image_hash,
    fail,
    finish_run,
    normalise_digest,
    prepare_run,
)
from medperf_core.containers.gpus import parse_gpus
from medperf_core.containers.leftovers import ENV_OWNER, orphaned_process_groups, owner, start_time
from medperf_core.containers.logs import LogSink
from medperf_core.containers.registry import image_config
from medperf_core.containers.runner import APPTAINER_HINT, RunRequest, RunResult
from medperf_core.containers.watchdog import KILL_PROCESS_GROUP, Watchdog
from medperf_core.errors import ConfigError, EngineUnavailableError
from medperf_singularity.sif import ImageSource, build_sif, docker_client, sif_path

ISOLATION = ("--containall", "--no-home", "--net", "--network", "none")
_KILL_GRACE_S = 5.0


def rebuild_hint(image: str) -> str:
    return (
        f"rebuild it with `docker build -t {image} <its folder>` (or, for an image from a registry, push the "
        "registered one there again); medperf builds the SIF from it again"
    )


class SingularityRunner:
    """Runs container tasks with Apptainer/Singularity via spython, on SIFs converted from Docker images."""

    name = "singularity"

    def __init__(self) -> None:
        self._docker: Any = None

    def _client(self) -> Any:
        if self._docker is None:
            self._docker = docker_client()
        return self._docker

    def sif_dir(self) -> Path | None:
        """Where this runner keeps its SIFs; None: the default cache under MEDPERF_HOME."""
        return None

    def check_available(self) -> None:
        try:
            from spython.utils import check_install
        except ImportError as e:
            raise EngineUnavailableError("spython is not installed", "pip install medperf-singularity") from e
        if not check_install("singularity"):
            raise EngineUnavailableError(
                "no `singularity` binary on PATH (apptainer installs it as a link)", APPTAINER_HINT
            )
        self._client()
        for group in orphaned_process_groups():  # runs of killed clients whose watchdogs died too: stop them
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)

    def image_hash(self, config: ContainerConfig) -> str:
        """The Docker image id the SIF is built from; the SIF is built (once) here so runs start fast."""
        digest, _defaults, source = self._inspect(config.image)
        build_sif(source, digest, lambda: self._docker_id(config.image), self.sif_dir())
        return digest

    def _docker_id(self, image: str) -> str:
        return self._inspect(image)[0]

    def _inspect(self, image: str) -> tuple[str, ImageDefaults, ImageSource]:
        """The Docker image id, what it runs by default and where its SIF comes from: the local Docker engine, or
        (missing there) the image's registry, whose manifest and config are read and checked against their
        digests. The defaults are ENTRYPOINT and CMD (the SIF's runscript would run them; we exec them with
        Docker's rules instead, which needs no shell in the image) and the working directory (Apptainer's --pwd:
        both engines start there)."""
        import docker

        try:
            found = self._client().images.get(image)
        except docker.errors.ImageNotFound:
            digest, defaults = image_config(image)
            return digest, defaults, ImageSource.registry(image)
        return str(found.id), ImageDefaults.from_docker(found.attrs.get("Config")), ImageSource.local(image)

    def run(self, request: RunRequest) -> RunResult:
        prepared = prepare_run(request)
        cached = _cached_sif(request.expected_image_hash, self.sif_dir())
        if cached is not None:
            # The SIF named by the registered digest was checked against that digest when it was built:
            # run it without asking Docker (faster, and the tag may since point elsewhere).
            digest, sif, defaults = cached
        else:
            digest, defaults, source = self._inspect(request.config.image)
            check_image_hash(prepared, digest, rebuild_hint(request.config.image))
            sif = build_sif(source, digest, lambda: self._docker_id(request.config.image), self.sif_dir())
            _defaults_file(sif).write_text(defaults.to_json(), encoding="utf-8")
        command = self._command(prepared, str(sif), defaults)
        exit_code, duration = self._execute(command, prepared)
        return finish_run(prepared, exit_code, duration, digest)

    def _command(self, prepared: PreparedRun, sif: str, image: ImageDefaults) -> list[str]:
        from spython.main import Client

        argv = prepared.argv(image)  # shm_size: Apptainer shares the host's /dev/shm, as MedPerf's runner does
        options: list[str] = [*ISOLATION, "--pwd", image.workdir]
        for mount in prepared.mounts:
            if any(c in str(mount.source) for c in ",:"):
                raise ConfigError(
                    f"host path {mount.source} contains ',' or ':', which Apptainer's --bind cannot express",
                    "move it to a path without those characters",
                )
            options += ["--bind", f"{mount.source}:{mount.target}:{'ro' if mount.read_only else 'rw'}"]
        env = prepared.environment
        gpus = parse_gpus(prepared.gpus)
        if gpus is not None:
            options.append("--nv")
            if gpus.device_ids:
                env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus.device_ids)
        env[ENV_OWNER] = owner()  # who started it: the next runner's start stops it if this client is gone
        for key, value in env.items():
            options += ["--env", f"{key}={value}"]
        base: list[str] = Client._init_command("exec")
        return [*base, *options, sif, *argv]

    def _execute(self, command: list[str], prepared: PreparedRun) -> tuple[int, float]:
        request = prepared.request
        with LogSink(request.log_path, echo=request.show_logs) as sink:
            started = time.monotonic()
            try:
                process = subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group, so a timeout kills the whole container
                )
            except OSError as e:
                raise EngineUnavailableError(f"cannot start {command[0]}: {e.strerror}", APPTAINER_HINT) from e
            if process.stdout is None:  # stdout=PIPE gives one
                raise EngineUnavailableError(f"{command[0]} started without its output pipe", APPTAINER_HINT)
            pump = sink.pump(iter(functools.partial(os.read, process.stdout.fileno(), 65536), b""))
            try:
                # A SIGKILLed client runs no `except`: the watchdog kills the group then. (The parent-death signal
                # cannot do it: Apptainer's starter clears it; killing the starter ends the container.)
                with Watchdog.guard(KILL_PROCESS_GROUP, str(process.pid), start_time(process.pid)):
                    exit_code, timed_out = wait_or_kill(process, request.timeout)
            except BaseException:  # Ctrl-C or any error here must not leave the container running
                _kill_group(process)
                raise
            if timed_out:
                pump.join(_KILL_GRACE_S)
                sink.note(f"timed out after {request.timeout:g} s; container killed")
                raise fail(prepared, f"timed out after {request.timeout:g} s and was killed") from None
            duration = time.monotonic() - started
            pump.join(_KILL_GRACE_S)
        return exit_code, duration


def _defaults_file(sif: Path) -> Path:
    return sif.with_suffix(".image.json")


def _cached_sif(expected: str | None, root: Path | None = None) -> tuple[str, Path, ImageDefaults] | None:
    """(digest, SIF, the image's defaults) when the registered digest's SIF and its defaults note are cached."""
    if not expected:
        return None
    digest = normalise_digest(expected)
    sif = sif_path(digest, root)
    note = _defaults_file(sif)
    if sif.is_file() and sif.stat().st_size > 0 and note.is_file():
        try:
            return digest, sif, ImageDefaults.from_json(note.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: inspect the image again, which rewrites it
    return None


def wait_or_kill(process: subprocess.Popen[bytes], timeout: float | None) -> tuple[int, bool]:
    """(exit code, whether it timed out): one blocking wait, which returns the moment the task ends, and a timer
    that stops the task's process group at the deadline. (`Popen.wait(timeout=...)` polls instead, sleeping up to
    50 ms between looks: a short task's end was noticed that much late.)"""
    if timeout is None:
        return process.wait(), False
    exited, expired = threading.Event(), threading.Event()

    def expire() -> None:
        if exited.is_set():
            return
        expired.set()  # a task that ends at the deadline itself may count as timed out: it had no time left
        for sig in (signal.SIGTERM, signal.SIGKILL):  # TERM first; KILL if it is still there after the grace
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            if exited.wait(_KILL_GRACE_S):
                return

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        exit_code = process.wait()
    finally:
        exited.set()
        timer.cancel()
    return exit_code, expired.is_set()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=_KILL_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue
