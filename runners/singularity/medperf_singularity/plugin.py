"""Registers the Singularity/Apptainer runner; imports nothing heavy so `medperf --help` stays fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medperf_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from medperf_core.hookspecs import RunnerFactory
    from medperf_core.registry import Registry


@hookimpl
def medperf_register_runners(register: Registry[RunnerFactory]) -> None:
    from medperf_singularity.runner import SingularityRunner

    register("singularity", SingularityRunner)
