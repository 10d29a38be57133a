"""`medperf container run_test`: one task of one container on folders you name, to debug it before registering."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import attrs

from medperf_core.containers.config import Task
from medperf_core.containers.runner import RunRequest, RunResult
from medperf_core.errors import UserError
from medperf_core.services.client import Client
from medperf_core.services.compatibility import component
from medperf_core.services.tasks import task_timeout


def parse_pairs(text: str | None, flag: str) -> dict[str, str]:
    """`a=1,b=2` (MedPerf's spelling of --mounts and --env) → {"a": "1", "b": "2"}."""
    pairs: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UserError(f"{flag} {item.strip()!r} is not NAME=VALUE", f"e.g. {flag} data_path=./data,out=./out")
        pairs[name.strip()] = value.strip()
    return pairs


@attrs.frozen
class Mounts:
    inputs: dict[str, Path]
    outputs: dict[str, Path]


def task_mounts(task: Task, given: Mapping[str, str], defaults: Mapping[str, Path]) -> Mounts:
    """Every volume of `task` bound to a host path: the given ones, else the container's own files (`defaults`:
    parameters and additional files); inputs must exist, output folders are created."""
    volumes = {v.name: ("input", v) for v in task.input_volumes} | {v.name: ("output", v) for v in task.output_volumes}
    listing = ", ".join(volumes) or "none"
    unknown = sorted(set(given) - set(volumes))
    if unknown:
        raise UserError(f"task {task.name!r} has no volume {', '.join(unknown)}", f"its volumes are: {listing}")
    paths = {name: Path(given[name]).expanduser().resolve() if name in given else defaults.get(name)
             for name in volumes}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        raise UserError(f"no path for the volume(s) {', '.join(missing)} of task {task.name!r}",
                        f"give them with --mounts, e.g. --mounts {missing[0]}=PATH")
    inputs = {n: p for n, p in paths.items() if p is not None and volumes[n][0] == "input"}
    outputs = {n: p for n, p in paths.items() if p is not None and volumes[n][0] == "output"}
    for name, path in inputs.items():
        if not path.exists():
            raise UserError(f"the input {name} {path} does not exist", "give an existing file or folder")
    for name, path in outputs.items():  # only once every volume is known to be good
        (path.parent if volumes[name][1].is_file else path).mkdir(parents=True, exist_ok=True)
    return Mounts(inputs, outputs)


def run_test(
    client: Client, container: str, task: str, *, mounts: Mapping[str, str], env: Mapping[str, str],
    parameters_file: Path | None = None, additional_files: Path | None = None, log_path: Path | None = None,
    timeout: float | None = None,
) -> RunResult:
    """Run `task` of `container` (a registered UID or a local config) with the given mounts; nothing is recorded."""
    local = component(client, container, offline=client.offline).container
    spec = local.config.task(task)
    defaults: dict[str, Path] = {}
    for name, given, own in (("parameters_file", parameters_file, local.parameters_file),
                             ("additional_files", additional_files, local.additional_files)):
        path = given.expanduser().resolve() if given is not None else own
        if path is not None:
            defaults[name] = path
    bound = task_mounts(spec, mounts, defaults)
    log = log_path or client.storage / "run_test" / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    request = RunRequest(
        config=local.config, task=task, inputs=bound.inputs, outputs=bound.outputs, log_path=log,
        expected_image_hash=local.image_hash or None,
        timeout=timeout if timeout is not None else task_timeout(client.profile),
        gpus=client.profile.gpus, env=dict(env),
    )
    from medperf_core.containers import cancel

    with cancel.sigterm_unwinds():
        return client.runner.run(request)
