"""A registered container made runnable here: its config, parameters file and additional files, hash-checked."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import attrs
import yaml

from medperf_core.containers.config import ContainerConfig, parse_container_config
from medperf_core.errors import ConfigError, IntegrityError, NotFoundError
from medperf_core.services.hashing import folders_hash


@attrs.frozen
class LocalContainer:
    container_id: int
    name: str
    config: ContainerConfig
    image_hash: str
    parameters_file: Path | None
    additional_files: Path | None

    def mounts_for(self, task: str) -> dict[str, Path]:
        """The inputs every task of this container gets besides the data: parameters and additional files."""
        spec = self.config.task(task)
        mounts: dict[str, Path] = {}
        if spec.input("parameters_file") is not None:
            if self.parameters_file is None:
                raise ConfigError(f"container {self.name} asks for a parameters file but none is registered")
            mounts["parameters_file"] = self.parameters_file
        if spec.input("additional_files") is not None:
            if self.additional_files is None:
                raise ConfigError(f"container {self.name} asks for additional files but none are registered")
            mounts["additional_files"] = self.additional_files
        return mounts


def _local_path(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        raise ConfigError(
            f"additional files at {url} cannot be fetched here", "only file:// URLs are supported offline"
        )
    return Path(url2pathname(parsed.path))


def _fetch_additional_files(url: str, expected_hash: str, dest: Path) -> Path:
    """Copy (once) the registered additional files into the cache and check them against their hash.

    Safe when several threads or `medperf` processes materialise the same container at once: each unpacks into
    its own temporary folder and publishes it with one rename; a loser finds the winner's folder and checks it.
    """
    if dest.exists() and folders_hash([dest]) == expected_hash:
        return dest
    source = _local_path(url)
    if not source.exists():
        raise NotFoundError(f"the container's additional files are missing at {source}", "ask the container owner")
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".additional-"))
    try:
        if source.is_dir():
            shutil.copytree(source, tmp, dirs_exist_ok=True)
        else:
            shutil.unpack_archive(str(source), str(tmp))
        actual = folders_hash([tmp])
        if expected_hash and actual != expected_hash:
            raise IntegrityError(
                f"additional files from {url} have hash {actual}, the server registered {expected_hash}",
                "the files were changed after registration; ask the container owner",
            )
        if dest.exists():  # stale (its hash was wrong): move it aside in one step, then delete it
            stale = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".stale-"))
            with contextlib.suppress(FileNotFoundError):  # another process replaced it meanwhile
                dest.rename(stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            tmp.rename(dest)
        except OSError:  # another process published it first: use theirs if it is right
            if not (dest.exists() and (not expected_hash or folders_hash([dest]) == expected_hash)):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def materialize(container: dict[str, Any], cache: Path) -> LocalContainer:
    """Write the container's parameters file and fetch its additional files under `cache/<id>/`.

    Every file is published atomically (a temporary name, then one rename), so models of a `benchmark run
    --parallel`, or two commands, sharing the metrics container's folder need no lock."""
    return _materialize(container, cache)


def _materialize(container: dict[str, Any], cache: Path) -> LocalContainer:
    cid = int(container["id"])
    folder = cache / str(cid)
    folder.mkdir(parents=True, exist_ok=True)
    raw = container.get("container_config")
    if not raw:
        raise ConfigError(f"container {cid} has no inline container_config", "re-register it with its config")
    config = parse_container_config(raw)
    parameters_file = None
    if container.get("parameters_config") is not None:
        parameters_file = folder / "parameters.yaml"
        text = yaml.safe_dump(container["parameters_config"], sort_keys=True)
        if not parameters_file.exists() or parameters_file.read_text(encoding="utf-8") != text:
            handle, name = tempfile.mkstemp(dir=folder, prefix=".parameters-", suffix=".tmp")
            with open(handle, "w", encoding="utf-8") as f:
                f.write(text)
            Path(name).replace(parameters_file)
    additional = None
    if container.get("additional_files_tarball_url"):
        additional = _fetch_additional_files(
            container["additional_files_tarball_url"], container.get("additional_files_tarball_hash", ""),
            folder / "additional_files",
        )
    return LocalContainer(
        container_id=cid, name=str(container.get("name", cid)), config=config,
        image_hash=str(container.get("image_hash") or ""), parameters_file=parameters_file,
        additional_files=additional,
    )
