"""The runner interface: what a run asks for (RunRequest), what it returns (RunResult), the Runner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from medperf_core.containers.config import ContainerConfig
from medperf_core.containers.owned_images import OwnedImage

# What to install, by name: most users installed medperf with pip and have no scripts/ folder.
SOURCE_CHECKOUT = "in a source checkout, sudo scripts/install-engines.sh installs it"
DOCKER_HINT = f"install Docker Engine (https://docs.docker.com/engine/install/) and start it; {SOURCE_CHECKOUT}"
APPTAINER_HINT = (
    f"install Apptainer (https://apptainer.org/docs/admin/main/installation.html), which provides `singularity`; "
    f"{SOURCE_CHECKOUT}"
)
INSTALL_HINT = (
    "install Docker Engine (https://docs.docker.com/engine/install/) or Apptainer "
    "(https://apptainer.org/docs/admin/main/installation.html); in a source checkout, sudo scripts/install-engines.sh "
    "installs both"
)


def _paths(value: Mapping[str, Path | str]) -> dict[str, Path]:
    return {str(name): Path(path) for name, path in value.items()}


def _names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v) for v in value)


def _env(value: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}


@attrs.frozen
class RunRequest:
    """One task of one container to run: host paths for each named volume plus run options."""

    config: ContainerConfig
    task: str
    inputs: Mapping[str, Path] = attrs.field(converter=_paths, hash=False)
    outputs: Mapping[str, Path] = attrs.field(converter=_paths, hash=False)
    log_path: Path = attrs.field(converter=Path)
    expected_image_hash: str | None = None
    timeout: float | None = None
    gpus: str | None = None
    show_logs: bool = False
    env: Mapping[str, str] = attrs.field(factory=dict, converter=_env, hash=False)
    # File outputs the container may leave unwritten (MedPerf's `report_file`): no failure, nothing moved.
    optional_outputs: frozenset[str] = attrs.field(factory=frozenset, converter=_names)


@attrs.frozen
class RunResult:
    """A finished, successful run."""

    exit_code: int
    duration_s: float
    log_path: Path
    image_hash: str


@runtime_checkable
class Runner(Protocol):
    """An engine; every implementation passes `medperf_core.testing.runner_contract.RunnerContract`.

    Optional capabilities are Protocols of their own: `ChoosesParallelism`; what a runner leaves on its engine is
    cleaned up through the `ImageOwner` its plugin registers. Runners that wait on a remote engine poll
    `medperf_core.containers.cancel.cancelled()` from worker threads.
    """

    name: str

    def check_available(self) -> None:
        """Raise EngineUnavailableError (with an install hint) when the engine cannot run containers."""
        ...

    def image_hash(self, config: ContainerConfig) -> str:
        """The digest of the config's image as present locally (Docker-built images: the id `sha256:...`)."""
        ...

    def run(self, request: RunRequest) -> RunResult:
        """Run the task; raise ContainerFailedError on failure and IntegrityError on a digest mismatch."""
        ...


@runtime_checkable
class ChoosesParallelism(Protocol):
    """A runner that knows how many tasks it runs well at once: `benchmark run` without --parallel runs that many
    models at once (others: one). The Slurm runner: what its partition accepts."""

    def default_parallel(self) -> int: ...


class ImageOwner(Protocol):
    """What a runner left on its engine for this MEDPERF_HOME (images it built or pulled): `storage ls` lists it
    and `storage cleanup --images` removes it through this, never by calling the engine itself. A runner plugin
    registers one with `medperf_register_image_owners`."""

    def owned_images(self) -> list[OwnedImage]:
        """This home's images on the engine; [] when the engine is not there."""
        ...

    def remove(self, image: OwnedImage) -> str | None:
        """Remove one image, never by force; the engine's reason when it refused, else None."""
        ...
