"""Parse MedPerf's `container_config.yaml` unchanged into frozen ContainerConfig / Task / Volume objects."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

import attrs
import yaml

from medperf_core.errors import ConfigError

VolumeType = Literal["file", "directory"]
VOLUME_TYPES: tuple[VolumeType, ...] = ("file", "directory")
SUPPORTED_CONTAINER_TYPES = ("DockerImage",)
PARAMETERS_VOLUME = "parameters_file"
ADDITIONAL_FILES_VOLUME = "additional_files"
_FORMAT_HINT = "see examples/tutorial/*/container_config.yaml for the expected format"


@attrs.frozen
class Volume:
    """One named mount: where it appears inside the container and whether it is a file or a directory."""

    name: str
    mount_path: str
    type: VolumeType

    @property
    def is_file(self) -> bool:
        return self.type == "file"


@attrs.frozen
class Task:
    """One entry of `tasks:`: the command and its named input and output volumes (in declaration order)."""

    name: str
    command: tuple[str, ...]
    input_volumes: tuple[Volume, ...]
    output_volumes: tuple[Volume, ...]

    def input(self, name: str) -> Volume | None:
        return next((v for v in self.input_volumes if v.name == name), None)

    def output(self, name: str) -> Volume | None:
        return next((v for v in self.output_volumes if v.name == name), None)

    @property
    def parameters_volume(self) -> Volume | None:
        """The parameters file input, when the task declares one (volume named `parameters_file`)."""
        return self.input(PARAMETERS_VOLUME)

    @property
    def additional_files_volume(self) -> Volume | None:
        """The additional-files folder input, when declared (volume named `additional_files`)."""
        return self.input(ADDITIONAL_FILES_VOLUME)


def _task_map(tasks: Mapping[str, Task]) -> dict[str, Task]:
    return dict(tasks)


@attrs.frozen
class ContainerConfig:
    """A whole container configuration: the image and its tasks."""

    image: str
    tasks: Mapping[str, Task] = attrs.field(converter=_task_map, hash=False)
    container_type: str = "DockerImage"
    source: Path | None = attrs.field(default=None, eq=False)

    def task(self, name: str) -> Task:
        """The named task, or a ConfigError listing the tasks this container has."""
        try:
            return self.tasks[name]
        except KeyError:
            known = ", ".join(sorted(self.tasks)) or "none"
            raise ConfigError(
                f"container {self.image} has no task {name!r}{_where(self.source)}",
                f"its tasks are: {known}; add a `{name}:` entry under `tasks:` or pick one of those",
            ) from None


def _where(source: Path | None) -> str:
    return f" (in {source})" if source else ""


def _parse_volume(name: Any, raw: Any, where: str) -> Volume:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"volume name {name!r} in {where} is not a string", _FORMAT_HINT)
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"volume {name!r} in {where} must be a mapping with `mount_path` and `type`",
            f"write `{name}: {{mount_path: /some/path, type: directory}}`",
        )
    mount_path = raw.get("mount_path")
    if not isinstance(mount_path, str) or not mount_path.strip():
        raise ConfigError(
            f"volume {name!r} in {where} has no mount_path",
            f"add `mount_path: /absolute/path` under `{name}:`",
        )
    posix = PurePosixPath(mount_path)
    if not posix.is_absolute() or ".." in posix.parts or str(posix) == "/":
        raise ConfigError(
            f"volume {name!r} in {where} has mount_path {mount_path!r}, not an absolute path below /",
            "use an absolute path inside the container such as /mlcommons/volumes/data",
        )
    kind = raw.get("type", "directory")
    if kind not in VOLUME_TYPES:
        raise ConfigError(
            f"volume {name!r} in {where} has type {kind!r}", "set `type: file` or `type: directory`"
        )
    return Volume(name=name, mount_path=str(posix), type=cast(VolumeType, kind))


def _parse_volumes(raw: Any, where: str) -> tuple[Volume, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping of volume name to volume", _FORMAT_HINT)
    return tuple(_parse_volume(name, value, where) for name, value in raw.items())


def _parse_command(raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        try:
            parts = shlex.split(raw)
        except ValueError as e:
            raise ConfigError(f"run_args.command of {where} cannot be split: {e}", "check its quotes") from e
    elif isinstance(raw, list) and all(isinstance(p, (str, int, float)) for p in raw):
        parts = [str(p) for p in raw]
    else:
        parts = []
    if not parts:
        raise ConfigError(
            f"{where} has no run_args.command",
            "add `run_args: {command: python3 /project/main.py}` (a string or a list of strings)",
        )
    return tuple(parts)


def _check_mounts(task: Task, where: str) -> None:
    seen: dict[str, str] = {}
    names: set[str] = set()
    for volume in (*task.input_volumes, *task.output_volumes):
        if volume.name in names:
            raise ConfigError(
                f"volume {volume.name!r} of {where} is both an input and an output",
                "give them different names",
            )
        names.add(volume.name)
        if volume.mount_path in seen:
            raise ConfigError(
                f"volumes {seen[volume.mount_path]!r} and {volume.name!r} of {where} share mount_path "
                f"{volume.mount_path}",
                "give each volume its own mount_path",
            )
        seen[volume.mount_path] = volume.name
    mounts = sorted(seen)
    for outer in mounts:
        for inner in mounts:
            if inner != outer and PurePosixPath(inner).is_relative_to(outer):
                raise ConfigError(
                    f"mount_path {inner} of {where} lies inside another volume's mount_path {outer}",
                    "use sibling folders, e.g. /mlcommons/volumes/a and /mlcommons/volumes/b",
                )


def _parse_task(name: Any, raw: Any, where: str) -> Task:
    task_where = f"task {name!r}{where}"
    if not isinstance(name, str) or not name:
        raise ConfigError(f"task name {name!r}{where} is not a string", _FORMAT_HINT)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{task_where} must be a mapping with run_args and volumes", _FORMAT_HINT)
    run_args = raw.get("run_args") or {}
    if not isinstance(run_args, Mapping):
        raise ConfigError(f"run_args of {task_where} must be a mapping", "write `run_args: {command: ...}`")
    task = Task(
        name=name,
        command=_parse_command(run_args.get("command"), task_where),
        input_volumes=_parse_volumes(raw.get("input_volumes"), f"input_volumes of {task_where}"),
        output_volumes=_parse_volumes(raw.get("output_volumes"), f"output_volumes of {task_where}"),
    )
    _check_mounts(task, task_where)
    return task


def parse_container_config(data: Any, source: Path | None = None) -> ContainerConfig:
    """Validate an already-loaded YAML document; every problem is one ConfigError with a hint."""
    where = _where(source)
    if not isinstance(data, Mapping):
        raise ConfigError(f"container config{where} is not a mapping", _FORMAT_HINT)
    container_type = data.get("container_type", "DockerImage")
    if container_type not in SUPPORTED_CONTAINER_TYPES:
        raise ConfigError(
            f"container_type {container_type!r}{where} is not supported",
            f"use one of: {', '.join(SUPPORTED_CONTAINER_TYPES)}",
        )
    image = data.get("image")
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        raise ConfigError(f"container config{where} has no valid `image`", "add `image: name:tag`")
    tasks = data.get("tasks")
    if not isinstance(tasks, Mapping) or not tasks:
        raise ConfigError(f"container config{where} has no `tasks`", "add at least one task under `tasks:`")
    parsed = {str(name): _parse_task(name, raw, where) for name, raw in tasks.items()}
    return ContainerConfig(image=image, tasks=parsed, container_type=container_type, source=source)


def loads_container_config(text: str, source: Path | None = None) -> ContainerConfig:
    """Parse YAML text into a ContainerConfig."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(
            f"container config{_where(source)} is not valid YAML: {str(e).splitlines()[0]}",
            "fix the YAML syntax (indentation, colons, quotes)",
        ) from e
    return parse_container_config(data, source)


def load_container_config(path: Path) -> ContainerConfig:
    """Read and parse a container_config.yaml file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read container config {path}: {e.strerror}", "check the path") from e
    return loads_container_config(text, Path(path))
