"""A registered container made runnable here: its config, parameters file and additional files, hash-checked."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import attrs
import yaml

from medperf_core.atomic import atomic_path, atomic_write
from medperf_core.containers.config import ContainerConfig, parse_container_config
from medperf_core.errors import ConfigError, IntegrityError, NotFoundError, ServerError
from medperf_core.services.hashing import file_hash, folders_hash
from medperf_core.services.tarballs import extract_tarball


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


DOWNLOAD_TIMEOUT_S = 60.0


def _local_path(url: str) -> Path:
    return Path(url2pathname(urlparse(url).path))


def _download(url: str, dest: Path, verify: str | bool, what: str) -> None:
    """Fetch a `http(s)://` or `file://` URL into `dest` (a temporary name of the caller's)."""
    scheme = urlparse(url).scheme
    if scheme in ("", "file"):
        source = _local_path(url)
        if not source.is_file():
            raise NotFoundError(f"{what}: nothing at {url}", "ask the container owner to publish it again")
        shutil.copyfile(source, dest)
        return
    if scheme not in ("http", "https"):
        raise ConfigError(f"{what}: cannot fetch {url}", "only http(s):// and file:// URLs are supported")
    import requests

    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT_S, verify=verify) as response:
            if response.status_code != 200:
                raise ServerError(f"{what}: GET {url} answered {response.status_code}", "ask the container owner")
            with dest.open("wb") as out:
                for chunk in response.iter_content(1024 * 1024):
                    out.write(chunk)
    except requests.RequestException as e:
        raise ServerError(f"{what}: cannot download {url} ({type(e).__name__})", "is the server reachable?") from e


def fetch_file(url: str, expected_hash: str, files: Path, what: str, *, verify: str | bool = True) -> Path:
    """The file at `url` whose sha256 must be `expected_hash`, kept once under `files/<sha256>` and shared by
    every container and dataset that names the same bytes. A download that fails or does not match is one
    error naming `what` (the container and the file), the URL and the hash."""
    if not expected_hash:
        raise IntegrityError(f"{what}: {url} has no registered hash", "ask the container owner to register it")
    files.mkdir(parents=True, exist_ok=True)
    cached = files / expected_hash.lower()
    if cached.is_file() and file_hash(cached) == cached.name:
        return cached
    with atomic_path(cached, prefix=".download-") as temp:
        _download(url, temp, verify, what)
        actual = file_hash(temp)
        if actual != cached.name:
            raise IntegrityError(
                f"{what}: {url} has sha256 {actual}, but {expected_hash} was registered",
                "the file changed after registration; ask the container owner",
            )
    return cached


def _publish_folder(tmp: Path, dest: Path, ok: Callable[[Path], bool]) -> Path:
    """Move a filled temporary folder to `dest` in one rename; a concurrent winner's folder is used if `ok`."""
    if dest.exists():  # stale (it failed `ok`): move it aside in one step, then delete it
        stale = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".stale-"))
        with contextlib.suppress(FileNotFoundError):  # another process replaced it meanwhile
            dest.rename(stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    try:
        tmp.rename(dest)
    except OSError:  # another process published it first: use theirs if it is right
        if not (dest.exists() and ok(dest)):
            raise
    return dest


def _additional_files(url: str, expected_hash: str, cache: Path, what: str, verify: str | bool) -> Path:
    """The additional files unpacked once per tarball hash under `cache/additional/<sha256>`.

    A `file://` folder (registered before tarballs) is checked with the dataset hash rule instead. Safe when
    several threads or `medperf` processes materialise the same container at once: each unpacks into its own
    temporary folder and publishes it with one rename; a loser finds the winner's folder and checks it."""
    source = _local_path(url) if urlparse(url).scheme in ("", "file") else None
    if source is not None and source.is_dir():
        dest = cache / "additional" / f"folder-{expected_hash}"
        if dest.exists() and folders_hash([dest]) == expected_hash:
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".additional-"))
        try:
            shutil.copytree(source, tmp, dirs_exist_ok=True)
            actual = folders_hash([tmp])
            if expected_hash and actual != expected_hash:
                raise IntegrityError(
                    f"{what}: {url} has hash {actual}, but {expected_hash} was registered",
                    "the files were changed after registration; ask the container owner",
                )
            return _publish_folder(tmp, dest, lambda d: folders_hash([d]) == expected_hash)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    tarball = fetch_file(url, expected_hash, cache / "files", what, verify=verify)
    dest = cache / "additional" / tarball.name
    if dest.is_dir():  # published whole by one rename: complete
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".additional-"))
    try:
        extract_tarball(tarball, tmp)
        return _publish_folder(tmp, dest, lambda d: d.is_dir())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def materialize(container: dict[str, Any], cache: Path, *, verify: str | bool = True) -> LocalContainer:
    """The container made runnable here: its config, parameters file and additional files under `cache`.

    Our server sends the config and parameters inline (the fast path); a container registered the MedPerf way
    has them, and its additional files, only at URLs with their sha256: they are downloaded (`verify`: the TLS
    CA bundle or False), checked and cached by hash (`cache/files/<sha256>`), shared by every container that
    names the same bytes. Every file is published atomically (a temporary name, then one rename), so models of
    a `benchmark run --parallel`, or two commands, sharing the metrics container's folder need no lock."""
    return _materialize(container, cache, verify)


def _config(container: dict[str, Any], cache: Path, what: str, verify: str | bool) -> ContainerConfig:
    raw = container.get("container_config")
    if raw:
        return parse_container_config(raw)
    url = container.get("git_mlcube_url") or ""
    if not url:
        raise ConfigError(f"{what} has neither an inline container_config nor a git_mlcube_url",
                          "ask the container owner to register its config")
    path = fetch_file(url, str(container.get("mlcube_hash") or ""), cache / "files", f"{what}'s config", verify=verify)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        from medperf_core.yaml_errors import yaml_problem

        raise ConfigError(f"{what}'s config at {url} is not YAML: {yaml_problem(e)}",
                          "ask the container owner") from None
    return parse_container_config(loaded)


def _materialize(container: dict[str, Any], cache: Path, verify: str | bool = True) -> LocalContainer:
    cid = int(container["id"])
    what = f"container {cid} ({container.get('name', '')})"
    folder = cache / str(cid)
    folder.mkdir(parents=True, exist_ok=True)
    config = _config(container, cache, what, verify)
    parameters_file = None
    if container.get("parameters_config") is None and container.get("git_parameters_url"):
        parameters_file = fetch_file(
            container["git_parameters_url"], str(container.get("parameters_hash") or ""), cache / "files",
            f"{what}'s parameters", verify=verify,
        )
    elif container.get("parameters_config") is not None:
        parameters_file = folder / "parameters.yaml"
        text = yaml.safe_dump(container["parameters_config"], sort_keys=True)
        if not parameters_file.exists() or parameters_file.read_text(encoding="utf-8") != text:
            with atomic_write(parameters_file, prefix=".parameters-") as f:
                f.write(text)
    additional = None
    if container.get("additional_files_tarball_url"):
        additional = _additional_files(
            container["additional_files_tarball_url"], str(container.get("additional_files_tarball_hash") or ""),
            cache, f"{what}'s additional files", verify,
        )
    return LocalContainer(
        container_id=cid, name=str(container.get("name", cid)), config=config,
        image_hash=str(container.get("image_hash") or ""), parameters_file=parameters_file,
        additional_files=additional,
    )


def local_container(path: Path) -> LocalContainer:
    """A container from local files, in MedPerf's layout: `DIR/container_config.yaml` or `DIR/mlcube.yaml` (or the
    config's path), `DIR/workspace/parameters.yaml` and `DIR/workspace/additional_files/` when they exist. Not
    hash-checked."""
    from medperf_core.containers.config import load_container_config

    config_path = path
    if path.is_dir():
        config_path = next((c for c in (path / "container_config.yaml", path / "mlcube.yaml") if c.is_file()),
                           path / "container_config.yaml")
    if not config_path.is_file():
        raise ConfigError(f"no container config at {path}",
                          "give a container_config.yaml (or mlcube.yaml) or the folder holding it")
    folder = config_path.parent
    parameters = next((p for p in (folder / "workspace" / "parameters.yaml", folder / "parameters.yaml")
                       if p.is_file()), None)
    additional = next((p for p in (folder / "workspace" / "additional_files", folder / "additional_files")
                       if p.is_dir() and any(p.iterdir())), None)
    return LocalContainer(container_id=0, name=str(config_path), config=load_container_config(config_path),
                          image_hash="", parameters_file=parameters, additional_files=additional)
