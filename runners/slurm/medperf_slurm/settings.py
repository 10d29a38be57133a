"""The Slurm runner's settings, read from the profile (`medperf profile set --slurm-...`) and checked once."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from medperf_core.config import medperf_home
from medperf_core.errors import ConfigError

_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_time_limit(text: str) -> float:
    """Seconds in one of Slurm's --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S."""
    match = _TIME.match(text.strip())
    if not match:
        raise ConfigError(
            f"invalid Slurm time limit {text!r}",
            "use minutes (90), minutes:seconds, hours:minutes:seconds (4:00:00) or days-hours (1-12)",
        )
    days, first, second, third = match.groups()
    if days is not None:  # D-H[:M[:S]]
        hours, minutes, seconds = int(first), int(second or 0), int(third or 0)
        return float(((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds)
    if third is not None:  # H:M:S
        return float((int(first) * 60 + int(second)) * 60 + int(third))
    if second is not None:  # M:S
        return float(int(first) * 60 + int(second))
    return float(int(first) * 60)


def time_option(seconds: float) -> str:
    """sbatch's --time in whole minutes, rounded up (Slurm's own granularity), at least one."""
    return str(max(1, math.ceil(seconds / 60)))


@attrs.frozen(kw_only=True)
class SlurmSettings:
    partition: str | None = None
    account: str | None = None
    time_limit: str | None = None
    cpus: int | None = None
    memory: str | None = None
    gpus: str | None = None
    extra_args: tuple[str, ...] = ()
    shared_dir: Path | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SlurmSettings:
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"unknown Slurm setting(s) {', '.join(unknown)}", f"known: {', '.join(sorted(known))}")
        values = dict(raw)
        if values.get("time_limit") is not None:
            values["time_limit"] = str(values["time_limit"])
            parse_time_limit(values["time_limit"])
        if values.get("cpus") is not None:
            values["cpus"] = int(values["cpus"])
            if values["cpus"] < 1:
                raise ConfigError("Slurm cpus must be at least 1", "medperf profile set --slurm-cpus N")
        extra = values.get("extra_args") or ()
        values["extra_args"] = tuple(shlex.split(extra) if isinstance(extra, str) else extra)
        if values.get("shared_dir"):
            values["shared_dir"] = Path(values["shared_dir"])
        return cls(**values)

    @classmethod
    def from_profile(cls) -> SlurmSettings:
        from medperf_core.profiles import ProfileStore

        return cls.from_mapping(ProfileStore().active().slurm)

    @property
    def root(self) -> Path:
        """The shared folder the compute nodes see (default MEDPERF_HOME/slurm, enough on one machine)."""
        return self.shared_dir if self.shared_dir is not None else medperf_home() / "slurm"

    def timeout(self, requested: float | None) -> float | None:
        """The task's time limit in seconds: the profile's container timeout when given, else the Slurm one."""
        if requested is not None:
            return requested
        return parse_time_limit(self.time_limit) if self.time_limit else None

    def sbatch_options(self, timeout: float | None) -> list[str]:
        options: list[str] = []
        if timeout is not None:
            options.append(f"--time={time_option(timeout)}")
        for flag, value in (
            ("--partition", self.partition),
            ("--account", self.account),
            ("--cpus-per-task", self.cpus),
            ("--mem", self.memory),
            ("--gpus", self.gpus),
        ):
            if value is not None and value != "":
                options.append(f"{flag}={value}")
        return [*options, *self.extra_args]
