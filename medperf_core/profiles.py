"""Server profiles: which server, backend and container platform the client uses, and its local storage."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from medperf_core.atomic import write_text_atomically
from medperf_core.config import medperf_home
from medperf_core.errors import ConfigError, NotFoundError, UserError

DEFAULT_PROFILE = "local"
PLATFORMS = ("docker", "singularity", "slurm")
PROFILE_ENV = "MEDPERF_PROFILE"  # overrides the active profile for one command


@attrs.frozen(kw_only=True)
class Profile:
    name: str
    server: str = "http://127.0.0.1:8000"
    backend: str = "rest"
    platform: str = "docker"
    certificate: str | None = None
    local_db: str | None = None  # for backend "local": the server database file
    store_url: str | None = None  # the client's event log (default: sqlite in the profile's storage)
    email: str | None = None
    token: str | None = None
    gpus: str | None = None
    timeout: float | None = None  # seconds to wait for the server
    # seconds a container task may run before it is killed; None: the default (services.tasks), 0: no limit
    container_timeout: float | None = None
    # The Slurm runner's settings (partition, account, time_limit, cpus, memory, gpus, extra_args, shared_dir);
    # medperf_slurm.settings reads them. Empty for other platforms.
    slurm: dict[str, Any] = attrs.field(factory=dict, hash=False)

    @property
    def storage(self) -> Path:
        """This profile's local state: client event log, prepared data, predictions, logs."""
        path = medperf_home() / "profiles" / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def public(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["token"] = "***" if self.token else None
        return data


class ProfileStore:
    """profiles.json under MEDPERF_HOME: every profile and the active one's name."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or medperf_home() / "profiles.json"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            default = attrs.asdict(Profile(name=DEFAULT_PROFILE))
            return {"active": DEFAULT_PROFILE, "profiles": {DEFAULT_PROFILE: default}}
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ConfigError(f"{self.path} is not valid JSON: {e}", f"fix or delete {self.path}") from e
        return data

    def _write(self, data: dict[str, Any]) -> None:
        write_text_atomically(self.path, json.dumps(data, indent=2, sort_keys=True), permissions=0o600)  # tokens

    def names(self) -> list[str]:
        return sorted(self._read()["profiles"])

    def active_name(self) -> str:
        return os.environ.get(PROFILE_ENV) or str(self._read()["active"])

    def get(self, name: str | None = None) -> Profile:
        data = self._read()
        name = name or self.active_name()
        raw = data["profiles"].get(name)
        if raw is None:
            raise NotFoundError(f"no profile named {name!r}", f"known: {', '.join(sorted(data['profiles']))}")
        known = {f.name for f in attrs.fields(Profile)}
        return Profile(**{k: v for k, v in raw.items() if k in known})

    def active(self) -> Profile:
        return self.get(self.active_name())

    def save(self, profile: Profile) -> None:
        if profile.platform not in PLATFORMS:
            raise UserError(f"unknown platform {profile.platform!r}", f"use one of {', '.join(PLATFORMS)}")
        data = self._read()
        data["profiles"][profile.name] = attrs.asdict(profile)
        self._write(data)

    def create(self, name: str) -> Profile:
        if name in self.names():
            raise UserError(
                f"profile {name!r} already exists",
                f"change it with: medperf profile activate {name}; medperf profile set",
            )
        profile = Profile(name=name)
        self.save(profile)
        return profile

    def activate(self, name: str) -> None:
        data = self._read()
        if name not in data["profiles"]:
            raise NotFoundError(f"no profile named {name!r}", f"create it with: medperf profile create -n {name}")
        data["active"] = name
        self._write(data)

    def delete(self, name: str) -> None:
        data = self._read()
        if name not in data["profiles"]:
            raise NotFoundError(f"no profile named {name!r}")
        if name == data["active"]:
            raise UserError(f"profile {name!r} is active", "activate another profile first")
        del data["profiles"][name]
        self._write(data)
