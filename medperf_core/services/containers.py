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
from medperf_core.services.hashing import file_hash, folders_hash


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


def _source(url: str, dest: Path) -> Path:
    """The registered additional files as a local path: a file:// or plain path as it is, an http(s) URL fetched."""
    from medperf_core.services.artifacts import fetch_url, is_url

    if is_url(url):
        return fetch_url(url, dest.parent / ".additional_files.download", "container's additional files")
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        raise ConfigError(f"additional files at {url} cannot be fetched", "register them as a file or http(s) URL")
    return Path(url2pathname(parsed.path))


def _check(url: str, source: Path, unpacked: Path, expected_hash: str) -> None:
    """MedPerf's hash of additional files is the tarball's sha256; a folder registered as is, its folder hash."""
    if not expected_hash:
        return
    if source.is_file() and file_hash(source) == expected_hash:
        return
    actual = folders_hash([unpacked])
    if actual != expected_hash:
        raise IntegrityError(
            f"additional files from {url} have hash {file_hash(source) if source.is_file() else actual}, the "
            f"server registered {expected_hash}",
            "the files were changed after registration; ask the container owner",
        )


def _fetch_additional_files(url: str, expected_hash: str, dest: Path) -> Path:
    """Copy (once) the registered additional files into the cache and check them against their hash.

    Safe when several threads or `medperf` processes materialise the same container at once: each unpacks into
    its own temporary folder and publishes it with one rename; a loser finds the winner's folder and checks it.
    The hash a published folder was checked against is kept beside it (`additional_files.sha256`).
    """
    checked = dest.with_name(dest.name + ".sha256")
    if dest.exists() and checked.exists() and checked.read_text(encoding="utf-8") == expected_hash:
        return dest
    if dest.exists() and folders_hash([dest]) == expected_hash:
        return dest
    source = _source(url, dest)
    if not source.exists():
        raise NotFoundError(f"the container's additional files are missing at {source}", "ask the container owner")
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".additional-"))
    try:
        if source.is_dir():
            shutil.copytree(source, tmp, dirs_exist_ok=True)
        else:
            try:
                shutil.unpack_archive(str(source), str(tmp), format=_archive_format(source))
            except (shutil.ReadError, ValueError, OSError) as e:
                raise ConfigError(f"the additional files at {url} are not a tarball ({e})",
                                  "register a .tar.gz of the files") from e
        _check(url, source, tmp, expected_hash)
        if dest.exists():  # stale (its hash was wrong): move it aside in one step, then delete it
            stale = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".stale-"))
            with contextlib.suppress(FileNotFoundError):  # another process replaced it meanwhile
                dest.rename(stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            tmp.rename(dest)
        except OSError:  # another process published it first: use theirs (it was checked the same way)
            if not dest.exists():
                raise
        handle, name = tempfile.mkstemp(dir=dest.parent, prefix=".checked-")
        with open(handle, "w", encoding="utf-8") as f:
            f.write(expected_hash)
        Path(name).replace(checked)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def _archive_format(path: Path) -> str | None:
    """Downloads are named without their suffix: tar (any compression) unless the name says zip."""
    return "zip" if path.suffix == ".zip" else "tar" if not path.name.endswith((".tar.gz", ".tgz", ".tar")) else None


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


def local_container(path: Path) -> LocalContainer:
    """A container from local files, in MedPerf's layout: `DIR/container_config.yaml` (or the config's path),
    `DIR/workspace/parameters.yaml` and `DIR/workspace/additional_files/` when they exist. Not hash-checked."""
    from medperf_core.containers.config import load_container_config

    config_path = path / "container_config.yaml" if path.is_dir() else path
    if not config_path.is_file():
        raise ConfigError(f"no container config at {path}", "give a container_config.yaml or the folder holding it")
    folder = config_path.parent
    parameters = next((p for p in (folder / "workspace" / "parameters.yaml", folder / "parameters.yaml")
                       if p.is_file()), None)
    additional = next((p for p in (folder / "workspace" / "additional_files", folder / "additional_files")
                       if p.is_dir() and any(p.iterdir())), None)
    return LocalContainer(container_id=0, name=str(config_path), config=load_container_config(config_path),
                          image_hash="", parameters_file=parameters, additional_files=additional)
