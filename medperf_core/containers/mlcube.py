"""The older `mlcube.yaml` format mapped onto the same Task / Volume objects as `container_config.yaml`.

An mlcube task names its inputs and outputs under `parameters:`; each is passed to the image's ENTRYPOINT as
`--name=/mlcube_ioN[/file]` after the task's name (MLCube's own convention), and mounted at `/mlcube_ioN`. Paths are
relative to the `workspace/` folder next to `mlcube.yaml`, where MedPerf keeps the two files it ships with a
container: `parameters.yaml` (mapped to the `parameters_file` volume) and `additional_files/` (the
`additional_files` volume; a parameter pointing inside it gets the path inside the mounted folder). Every other
parameter is a volume of its own name that the caller provides (`data_path`, `output_path`, ...).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import attrs

from medperf_core.containers.config import (
    ADDITIONAL_FILES_VOLUME,
    PARAMETERS_VOLUME,
    Task,
    Volume,
    VolumeType,
    _check_mounts,
    _shm_size,
    required_image,
    required_tasks,
)
from medperf_core.errors import ConfigError

_HINT = "see MedPerf's mlcube.yaml examples: `docker: {image: ...}` and `tasks: <name>: parameters: inputs/outputs`"


class _Mounts:
    """Volumes of one task in the order MLCube numbers them (/mlcube_io0, /mlcube_io1, ...)."""

    def __init__(self) -> None:
        self.inputs: list[Volume] = []
        self.outputs: list[Volume] = []
        self.by_name: dict[str, Volume] = {}

    def add(self, name: str, kind: VolumeType, file_name: str, output: bool) -> Volume:
        if name in self.by_name:
            return self.by_name[name]
        root = f"/mlcube_io{len(self.by_name)}"
        volume = Volume(name, f"{root}/{file_name}" if kind == "file" else root, kind)
        self.by_name[name] = volume
        (self.outputs if output else self.inputs).append(volume)
        return volume


def _parameter(name: Any, raw: Any, where: str) -> tuple[str, str, str | None]:
    """(name, path as written, declared type or None)."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"parameter name {name!r} of {where} is not a string", _HINT)
    declared = None
    if isinstance(raw, Mapping):
        declared, raw = raw.get("type"), raw.get("default")
        if declared not in (None, "file", "directory"):
            raise ConfigError(
                f"parameter {name!r} of {where} has type {declared!r}", "use `type: file` or `type: directory`"
            )
    if not isinstance(raw, str):
        raise ConfigError(
            f"parameter {name!r} of {where} has no path", f"write `{name}: some/path` or `{{type: ..., default: ...}}`"
        )
    return name, raw, declared


def _kind(path: str, declared: str | None) -> VolumeType:
    """MLCube's rule (a trailing slash is a folder); an untyped path with a file suffix is a file, else a folder."""
    if declared in ("file", "directory"):
        return "file" if declared == "file" else "directory"
    if path.endswith(("/", "\\")) or not path:
        return "directory"
    return "file" if PurePosixPath(path.replace("\\", "/")).suffix else "directory"


def _argument(mounts: _Mounts, name: str, path: str, declared: str | None, output: bool) -> str:
    relative = PurePosixPath(path.replace("\\", "/").rstrip("/")) if path else PurePosixPath(".")
    parts = relative.parts
    if not output and not relative.is_absolute() and parts == ("parameters.yaml",):
        return mounts.add(PARAMETERS_VOLUME, "file", "parameters.yaml", output).mount_path
    if not output and not relative.is_absolute() and parts[:1] == (ADDITIONAL_FILES_VOLUME,):
        folder = mounts.add(ADDITIONAL_FILES_VOLUME, "directory", "", output).mount_path
        return str(PurePosixPath(folder, *parts[1:]))
    kind = _kind(path, declared)
    return mounts.add(name, kind, relative.name or name, output).mount_path


def _task(name: Any, raw: Any, where: str) -> Task:
    task_where = f"mlcube task {name!r}{where}"
    if not isinstance(name, str) or not name:
        raise ConfigError(f"task name {name!r}{where} is not a string", _HINT)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("parameters"), Mapping):
        raise ConfigError(f"{task_where} has no `parameters:` mapping", _HINT)
    entrypoint: tuple[str, ...] | None = None
    command: list[str] = [name]  # MLCube passes the task's name first, to the image's ENTRYPOINT
    if raw.get("entrypoint") is not None:
        try:
            words = shlex.split(str(raw["entrypoint"]))
        except ValueError as e:
            raise ConfigError(f"the entrypoint of {task_where} cannot be split: {e}", "check its quotes") from e
        if not words:
            raise ConfigError(f"the entrypoint of {task_where} is empty", "give a command or remove `entrypoint:`")
        entrypoint, command = (words[0],), words[1:]
    mounts = _Mounts()
    for section in ("inputs", "outputs"):
        params = raw["parameters"].get(section) or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"parameters.{section} of {task_where} must be a mapping", _HINT)
        for key, value in params.items():
            pname, path, declared = _parameter(key, value, f"{section} of {task_where}")
            command.append(f"--{pname}={_argument(mounts, pname, path, declared, section == 'outputs')}")
    task = Task(
        name=name,
        command=tuple(command),
        input_volumes=tuple(mounts.inputs),
        output_volumes=tuple(mounts.outputs),
        entrypoint=entrypoint,
    )
    _check_mounts(task, task_where)
    return task


def _shm_from_gpu_args(docker: Mapping[Any, Any], where: str) -> str | None:
    words = str(docker.get("gpu_args") or "").split()
    for i, word in enumerate(words):
        if word == "--shm-size" and i + 1 < len(words):
            return _shm_size(words[i + 1], f"docker.gpu_args{where}")
        if word.startswith("--shm-size="):
            return _shm_size(word.split("=", 1)[1], f"docker.gpu_args{where}")
    return None


def parse_mlcube(data: Mapping[Any, Any], where: str) -> tuple[str, dict[str, Task]]:
    """The image and the tasks of an `mlcube.yaml`; every problem one ConfigError naming the field."""
    docker = data.get("docker")
    if not isinstance(docker, Mapping):
        raise ConfigError(
            f"mlcube.yaml{where} has no `docker:` section (one with only `singularity:` is not supported)",
            "add `docker: {image: name:tag}`",
        )
    image = required_image(
        docker.get("image"), f"mlcube.yaml{where} has no valid `docker.image`", "add `docker: {image: name:tag}`"
    )
    tasks = required_tasks(data.get("tasks"), f"mlcube.yaml{where}")
    shm_size = _shm_from_gpu_args(docker, where)
    return image, {str(name): attrs.evolve(_task(name, raw, where), shm_size=shm_size) for name, raw in tasks.items()}
