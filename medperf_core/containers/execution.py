"""Shared run logic for every runner: resolve mounts, validate, fresh outputs, hash and result checks."""

from __future__ import annotations

import glob
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import attrs

from medperf_core.containers.config import Task, Volume
from medperf_core.containers.runner import RunRequest, RunResult
from medperf_core.errors import ConfigError, ContainerFailedError, IntegrityError


@attrs.frozen
class Mount:
    """One bind mount as every engine needs it: host source, container target, read-only or not."""

    name: str
    source: Path
    target: str
    read_only: bool


@attrs.frozen
class StagedOutput:
    """A file output: a fresh staging folder is mounted at the file's parent; the file is moved out after."""

    volume: Volume
    staging_dir: Path
    final_path: Path

    @property
    def staged_file(self) -> Path:
        return self.staging_dir / PurePosixPath(self.volume.mount_path).name


def _words(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


@attrs.frozen
class ImageDefaults:
    """What an image runs when a task does not say: its ENTRYPOINT, CMD and working directory."""

    entrypoint: tuple[str, ...] = attrs.field(default=(), converter=_words)
    cmd: tuple[str, ...] = attrs.field(default=(), converter=_words)
    workdir: str = "/"

    @classmethod
    def from_docker(cls, config: Mapping[str, Any] | None) -> ImageDefaults:
        """From `docker image inspect`'s `Config` (Entrypoint, Cmd and WorkingDir may each be null)."""
        config = config or {}
        return cls(config.get("Entrypoint"), config.get("Cmd"), str(config.get("WorkingDir") or "/"))

    def to_json(self) -> str:
        return json.dumps({"entrypoint": list(self.entrypoint), "cmd": list(self.cmd), "workdir": self.workdir})

    @classmethod
    def from_json(cls, text: str) -> ImageDefaults:
        data = json.loads(text)
        return cls(data["entrypoint"], data["cmd"], str(data["workdir"]))


@attrs.frozen
class PreparedRun:
    """A validated request, ready for an engine: the command, the mounts, and what to collect afterwards."""

    request: RunRequest
    task: Task
    mounts: tuple[Mount, ...]
    staged: tuple[StagedOutput, ...]
    output_dirs: tuple[tuple[Volume, Path], ...]

    def argv(self, image: ImageDefaults) -> tuple[str, ...]:
        """What the container executes: the task's entrypoint and command over the image's own (Docker's rules)."""
        argv = self.task.argv(image.entrypoint, image.cmd)
        if not argv:
            raise ConfigError(
                f"{self.label} gives no command and the image sets neither ENTRYPOINT nor CMD",
                "add `run_args: {command: ...}` to the task, or an ENTRYPOINT/CMD to the image",
            )
        return argv

    @property
    def environment(self) -> dict[str, str]:
        """The config's `run_args.environment`, then the caller's variables (which win)."""
        return {**self.task.environment, **self.request.env}

    @property
    def gpus(self) -> str | None:
        """The caller's choice; without one, what the config asks for."""
        return self.request.gpus if self.request.gpus is not None else self.task.gpus

    @property
    def label(self) -> str:
        return f"task {self.task.name!r} of {self.request.config.image}"


def _check_names(task: Task, given: set[str], declared: tuple[Volume, ...], kind: str, image: str) -> None:
    names = {v.name for v in declared}
    missing = sorted(names - given)
    if missing:
        raise ConfigError(
            f"task {task.name!r} of {image} needs {kind} volume(s) {', '.join(missing)}, but none was given",
            f"pass a host path for each of: {', '.join(sorted(names))}",
        )
    unknown = sorted(given - names)
    if unknown:
        raise ConfigError(
            f"task {task.name!r} of {image} declares no {kind} volume(s) {', '.join(unknown)}",
            f"its {kind} volumes are: {', '.join(sorted(names)) or 'none'}; check the container config",
        )


def _input_mount(volume: Volume, host: Path, task: Task) -> Mount:
    source = host.expanduser().resolve()
    ok = source.is_file() if volume.is_file else source.is_dir()
    if not ok:
        state = "does not exist" if not source.exists() else f"is not a {volume.type}"
        raise ConfigError(
            f"input volume {volume.name!r} of task {task.name!r}: {source} {state}",
            f"pass an existing {volume.type} for {volume.name!r}",
        )
    return Mount(volume.name, source, volume.mount_path, read_only=True)


def _fresh_output_dir(volume: Volume, host: Path, task: Task) -> Path:
    target = host.expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"output volume {volume.name!r} of task {task.name!r}: {target} is not an empty folder",
            "outputs go to a fresh folder: remove it or choose another path",
        )
    target.mkdir(parents=True, exist_ok=True)
    return target


def _staged_output(volume: Volume, host: Path, task: Task, others: list[str]) -> StagedOutput:
    final = host.expanduser().resolve()
    if final.exists():
        raise ConfigError(
            f"output volume {volume.name!r} of task {task.name!r}: {final} already exists",
            "outputs are written fresh: remove it or choose another path",
        )
    parent = PurePosixPath(volume.mount_path).parent
    clash = [m for m in others if PurePosixPath(m).is_relative_to(parent) or parent.is_relative_to(m)]
    if str(parent) == "/" or clash:
        raise ConfigError(
            f"file output {volume.name!r} of task {task.name!r} needs a container folder of its own",
            f"move its mount_path {volume.mount_path} to a folder that holds no other volume",
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.medperf-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return StagedOutput(volume, staging, final)


def prepare_run(request: RunRequest) -> PreparedRun:
    """Validate a request against its config and create the output folders; ConfigError on any mismatch."""
    config = request.config
    task = config.task(request.task)
    _check_names(task, set(request.inputs), task.input_volumes, "input", config.image)
    _check_names(task, set(request.outputs), task.output_volumes, "output", config.image)
    mounts = [_input_mount(v, request.inputs[v.name], task) for v in task.input_volumes]
    output_dirs: list[tuple[Volume, Path]] = []
    staged: list[StagedOutput] = []
    staged_parents: dict[str, StagedOutput] = {}
    try:
        for volume in task.output_volumes:
            host = request.outputs[volume.name]
            if not volume.is_file:
                target = _fresh_output_dir(volume, host, task)
                output_dirs.append((volume, target))
                mounts.append(Mount(volume.name, target, volume.mount_path, read_only=False))
                continue
            others = [v.mount_path for v in (*task.input_volumes, *task.output_volumes) if not v.is_file]
            others += [v.mount_path for v in task.input_volumes if v.is_file]
            item = _staged_output(volume, host, task, others)
            parent = str(PurePosixPath(volume.mount_path).parent)
            if parent in staged_parents:  # two file outputs in one container folder share one staging folder
                item.staging_dir.rmdir()
                item = StagedOutput(volume, staged_parents[parent].staging_dir, item.final_path)
            else:
                staged_parents[parent] = item
                mounts.append(Mount(volume.name, item.staging_dir, parent, read_only=False))
            staged.append(item)
    except BaseException:
        cleanup_staging(tuple(staged))
        raise
    request.log_path.parent.mkdir(parents=True, exist_ok=True)
    return PreparedRun(request, task, tuple(mounts), tuple(staged), tuple(output_dirs))


def live_output(final_path: Path, mount_path: str) -> Path | None:
    """Where a running task's file output is being written now (its staging folder, next to `final_path`), or
    None when the task has not written it yet; `final_path` once the run has moved it into place."""
    final = final_path.expanduser().resolve()
    if final.is_file():
        return final
    name = PurePosixPath(mount_path).name
    own = sorted(final.parent.glob(f".{glob.escape(final.name)}.medperf-*/{glob.escape(name)}"))
    shared = sorted(final.parent.glob(f".*.medperf-*/{glob.escape(name)}"))  # one staging folder, two files
    for candidate in (*own, *shared):
        if candidate.is_file():
            return candidate
    return None


def cleanup_staging(staged: tuple[StagedOutput, ...]) -> None:
    for item in staged:
        shutil.rmtree(item.staging_dir, ignore_errors=True)


def normalise_digest(digest: str) -> str:
    digest = digest.strip().lower()
    return digest if ":" in digest else f"sha256:{digest}"


def check_image_hash(prepared: PreparedRun, actual: str, rebuild_hint: str) -> None:
    """Raise IntegrityError when the local image's digest is not the registered one."""
    expected = prepared.request.expected_image_hash
    if expected and normalise_digest(expected) != normalise_digest(actual):
        raise IntegrityError(
            f"image {prepared.request.config.image} has digest {actual}, but {expected} was registered",
            f"the local image changed or is corrupt: {rebuild_hint}",
        )


def last_log_line(log_path: Path, limit: int = 200) -> str:
    try:
        with log_path.open("rb") as f:
            f.seek(max(0, log_path.stat().st_size - 4096))
            lines = [line for line in f.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:limit] if lines else ""


def fail(prepared: PreparedRun, what: str) -> ContainerFailedError:
    """A ContainerFailedError naming the task, what went wrong and the log path."""
    log = prepared.request.log_path
    last = last_log_line(log)
    hint = f"see the log {log}" + (f"; last line: {last}" if last else "")
    return ContainerFailedError(f"{prepared.label} {what}; log: {log}", hint)


def finish_run(prepared: PreparedRun, exit_code: int, duration_s: float, image_hash: str) -> RunResult:
    """Turn a finished run into a RunResult: check the exit code, move file outputs, check every output."""
    try:
        if exit_code != 0:
            raise fail(prepared, f"exited with code {exit_code}")
        optional = prepared.request.optional_outputs
        for item in prepared.staged:
            if not item.staged_file.is_file() and item.volume.name not in optional:
                raise fail(
                    prepared,
                    f"exited with code 0 but did not write its output file {item.volume.name!r} "
                    f"({item.volume.mount_path})",
                )
        for item in prepared.staged:
            if item.staged_file.is_file():
                os.replace(item.staged_file, item.final_path)
        for volume, folder in prepared.output_dirs:
            if not folder.is_dir() or not any(folder.iterdir()):
                raise fail(
                    prepared,
                    f"exited with code 0 but wrote nothing to its output folder {volume.name!r} "
                    f"({volume.mount_path})",
                )
    finally:
        cleanup_staging(prepared.staged)
    return RunResult(exit_code, duration_s, prepared.request.log_path, image_hash)
