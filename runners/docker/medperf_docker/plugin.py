"""Registers the Docker runner and what cleans up after it; imports nothing heavy so `medperf --help` stays fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medperf_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from medperf_core.hookspecs import ImageOwnerFactory, RunnerFactory
    from medperf_core.registry import Registry


@hookimpl
def medperf_register_runners(register: Registry[RunnerFactory]) -> None:
    from medperf_docker.runner import DockerRunner

    register("docker", DockerRunner)


@hookimpl
def medperf_register_image_owners(register: Registry[ImageOwnerFactory]) -> None:
    from medperf_docker.images import DockerImages

    register("docker", DockerImages)
