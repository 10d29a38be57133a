"""Registers the Slurm runner; imports nothing heavy so `medperf --help` stays fast."""

from __future__ import annotations

from typing import Any

from medperf_core.hookspecs import hookimpl


@hookimpl
def medperf_register_runners(register: Any) -> None:
    from medperf_slurm.runner import SlurmRunner

    register("slurm", SlurmRunner)
