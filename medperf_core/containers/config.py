"""Parse MedPerf's `container_config.yaml` (and the older `mlcube.yaml`) unchanged into frozen ContainerConfig /
Task / Volume objects.

A task's `run_args` may be absent: the image's own ENTRYPOINT and CMD run, as MedPerf runs them. Of `run_args`,
what MedPerf's runner accepts is accepted (`command`, `entrypoint`, `environment`, `shm_size`, `gpus`); anything
else (ports, networks, privileges, users, extra mounts) is refused naming the field.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

import attrs
import yaml

from medperf_core.containers.gpus import parse_gpus
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


def _str_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen
class Task:
    """One entry of `tasks:`: what runs and its named input and output volumes (in declaration order).

    `command` None: the image's CMD (unless `entrypoint` is set, which, as in Docker, drops the image's CMD);
    `entrypoint` None: the image's ENTRYPOINT. `gpus` is what the config asks for when the caller gives none.
    """

    name: str
    command: tuple[str, ...] | None
    input_volumes: tuple[Volume, ...]
    output_volumes: tuple[Volume, ...]
    entrypoint: tuple[str, ...] | None = None
    environment: Mapping[str, str] = attrs.field(factory=dict, converter=_str_map, hash=False)
    shm_size: str | None = None
    gpus: str | None = None

    def argv(self, image_entrypoint: tuple[str, ...], image_cmd: tuple[str, ...]) -> tuple[str, ...]:
        """What the container executes, given the image's own ENTRYPOINT and CMD (Docker's rules)."""
        entrypoint = self.entrypoint if self.entrypoint is not None else image_entrypoint
        if self.command is not None:
            command = self.command
        elif self.entrypoint is not None:
            command = ()
        else:
            command = image_cmd
        return (*entrypoint, *command)

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


def _argv(raw: Any, field: str, where: str, *, split: bool) -> tuple[str, ...]:
    """A string (split like a shell when `split`, else one word) or a list of strings; never empty."""
    if isinstance(raw, str):
        try:
            parts = shlex.split(raw) if split else ([raw] if raw.strip() else [])
        except ValueError as e:
            raise ConfigError(f"run_args.{field} of {where} cannot be split: {e}", "check its quotes") from e
    elif isinstance(raw, list) and all(isinstance(p, (str, int, float)) for p in raw):
        parts = [str(p) for p in raw]
    else:
        parts = []
    if not parts:
        raise ConfigError(
            f"run_args.{field} of {where} is empty or not a string or list of strings",
            f"write `{field}: python3 /project/main.py` (a string or a list of strings), or leave it out "
            "to run the image's own",
        )
    return tuple(parts)


ALLOWED_RUN_ARGS = ("command", "entrypoint", "environment", "shm_size", "gpus")
_NETWORK_RUN_ARGS = {"ports", "port", "network", "network_mode", "networks", "net", "publish", "expose", "hostname",
                     "dns", "extra_hosts", "links", "ipc", "ipc_mode", "pid", "pid_mode", "uts", "uts_mode"}
_PRIVILEGE_RUN_ARGS = {"privileged", "cap_add", "capabilities", "security_opt", "user", "userns_mode", "devices",
                       "device_requests", "volumes", "mounts", "binds", "tmpfs", "group_add", "sysctls",
                       "runtime", "read_only", "cgroup_parent"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SIZE = re.compile(r"^[0-9]+(\.[0-9]+)?\s*([bkmgt]b?|[kmgt]ib)?$", re.IGNORECASE)


def _check_run_arg_names(run_args: Mapping[Any, Any], where: str) -> None:
    for key in run_args:
        if key in ALLOWED_RUN_ARGS:
            continue
        if key in _NETWORK_RUN_ARGS:
            raise ConfigError(
                f"run_args.{key} of {where} would give the container a network; medperf runs containers "
                "without one",
                f"remove `{key}:` from run_args",
            )
        if key in _PRIVILEGE_RUN_ARGS:
            raise ConfigError(
                f"run_args.{key} of {where} would change the container's privileges, user or mounts, which "
                "medperf decides",
                f"remove `{key}:` from run_args",
            )
        raise ConfigError(
            f"run_args.{key} of {where} is not supported",
            f"MedPerf's run_args are: {', '.join(ALLOWED_RUN_ARGS)}; remove `{key}:`",
        )


def _environment(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"run_args.environment of {where} must be a mapping", "write `environment: {NAME: value}`"
        )
    env: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise ConfigError(
                f"run_args.environment of {where} has the invalid variable name {key!r}",
                "use letters, digits and underscores, not starting with a digit",
            )
        if value is None or isinstance(value, (Mapping, list)):
            raise ConfigError(
                f"run_args.environment.{key} of {where} must be a string or a number", f"write `{key}: value`"
            )
        env[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def _shm_size(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if isinstance(raw, bool) or not _SIZE.match(text):
        raise ConfigError(
            f"run_args.shm_size of {where} is {raw!r}, not a size", 'write a size such as `shm_size: "2g"`'
        )
    return text


def _gpus(raw: Any, where: str) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ConfigError(f"run_args.gpus of {where} is {raw!r}", 'use "all", a number like 1, or "device=0,1"')
    text = str(raw)
    try:
        parse_gpus(text)
    except ConfigError as e:
        raise ConfigError(f"run_args.gpus of {where}: {e.message}", e.hint) from None
    return text


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
    _check_run_arg_names(run_args, task_where)
    command = run_args.get("command")
    entrypoint = run_args.get("entrypoint")
    task = Task(
        name=name,
        command=None if command is None else _argv(command, "command", task_where, split=True),
        input_volumes=_parse_volumes(raw.get("input_volumes"), f"input_volumes of {task_where}"),
        output_volumes=_parse_volumes(raw.get("output_volumes"), f"output_volumes of {task_where}"),
        entrypoint=None if entrypoint is None else _argv(entrypoint, "entrypoint", task_where, split=False),
        environment=_environment(run_args.get("environment"), task_where),
        shm_size=_shm_size(run_args.get("shm_size"), task_where),
        gpus=_gpus(run_args.get("gpus"), task_where),
    )
    _check_mounts(task, task_where)
    return task


def required_image(image: object, problem: str, fix: str) -> str:
    """An image reference: a non-empty string without whitespace; otherwise a ConfigError with `problem` and `fix`."""
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        raise ConfigError(problem, fix)
    return image


def required_tasks(tasks: object, what: str) -> Mapping[Any, Any]:
    """The `tasks` mapping of a config (`what` names the config in the error): present and not empty."""
    if not isinstance(tasks, Mapping) or not tasks:
        raise ConfigError(f"{what} has no `tasks`", "add at least one task under `tasks:`")
    return tasks


def parse_container_config(data: Any, source: Path | None = None) -> ContainerConfig:
    """Validate an already-loaded YAML document; every problem is one ConfigError with a hint."""
    where = _where(source)
    if not isinstance(data, Mapping):
        raise ConfigError(f"container config{where} is not a mapping", _FORMAT_HINT)
    if is_mlcube(data):
        from medperf_core.containers.mlcube import parse_mlcube

        mlcube_image, mlcube_tasks = parse_mlcube(data, where)
        return ContainerConfig(image=mlcube_image, tasks=mlcube_tasks, source=source)
    container_type = data.get("container_type", "DockerImage")
    if container_type not in SUPPORTED_CONTAINER_TYPES:
        raise ConfigError(
            f"container_type {container_type!r}{where} is not supported",
            f"use one of: {', '.join(SUPPORTED_CONTAINER_TYPES)}",
        )
    image = required_image(data.get("image"), f"container config{where} has no valid `image`", "add `image: name:tag`")
    tasks = required_tasks(data.get("tasks"), f"container config{where}")
    parsed = {str(name): _parse_task(name, raw, where) for name, raw in tasks.items()}
    return ContainerConfig(image=image, tasks=parsed, container_type=container_type, source=source)


def is_mlcube(data: Mapping[Any, Any]) -> bool:
    """MedPerf's rule: a config without `container_type` but with a `docker:` or `singularity:` section."""
    return "container_type" not in data and ("docker" in data or "singularity" in data)


def loads_container_config(text: str, source: Path | None = None) -> ContainerConfig:
    """Parse YAML text into a ContainerConfig."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        from medperf_core.yaml_errors import yaml_problem

        raise ConfigError(
            f"container config{_where(source)} is not valid YAML: {yaml_problem(e)}",
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
