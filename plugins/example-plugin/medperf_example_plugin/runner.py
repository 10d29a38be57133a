"""A fake runner: runs a Python callable per task over the request's host paths, no container engine needed.

Useful in unit tests of services that need a runner, and as the smallest example of the Runner protocol.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from medperf_core.containers.config import ContainerConfig
from medperf_core.containers.execution import normalise_digest
from medperf_core.containers.runner import RunRequest, RunResult
from medperf_core.errors import ContainerFailedError, IntegrityError

# A task function gets the input and output host paths by volume name; it writes the outputs.
TaskFunction = Callable[[Mapping[str, Path], Mapping[str, Path]], None]


def describe_inputs(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
    """The default task: write, to every output, a JSON listing of the inputs (names and file names)."""
    listing = {
        name: sorted(p.name for p in path.iterdir()) if path.is_dir() else [path.name]
        for name, path in inputs.items()
    }
    for path in outputs.values():
        target = path if path.suffix else path / "inputs.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(listing, sort_keys=True), encoding="utf-8")


class ExampleRunner:
    """Implements `medperf_core.containers.runner.Runner` without containers."""

    name = "example"

    def __init__(self, tasks: Mapping[str, TaskFunction] | None = None) -> None:
        self.tasks = dict(tasks or {})

    def check_available(self) -> None:
        """Always available: there is no engine."""

    def image_hash(self, config: ContainerConfig) -> str:
        """A stable stand-in for an image digest: sha256 of the image name."""
        return "sha256:" + hashlib.sha256(config.image.encode("utf-8")).hexdigest()

    def run(self, request: RunRequest) -> RunResult:
        config = request.config
        config.task(request.task)  # a ConfigError naming the known tasks when it does not exist
        digest = self.image_hash(config)
        if request.expected_image_hash and normalise_digest(request.expected_image_hash) != digest:
            raise IntegrityError(
                f"image {config.image} has digest {digest}, not the registered {request.expected_image_hash}"
            )
        function = self.tasks.get(request.task, describe_inputs)
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        with request.log_path.open("w", encoding="utf-8") as log:
            log.write(f"example runner: task {request.task} of {config.image}\n")
            try:
                function(request.inputs, request.outputs)
            except Exception as e:
                log.write(f"failed: {type(e).__name__}: {e}\n")
                raise ContainerFailedError(
                    f"task {request.task!r} of {config.image} failed: {e}", f"see the log: {request.log_path}"
                ) from e
            log.write("done\n")
        return RunResult(
            exit_code=0, duration_s=time.monotonic() - start, log_path=request.log_path, image_hash=digest
        )
