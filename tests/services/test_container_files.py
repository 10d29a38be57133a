"""Containers registered the MedPerf way (config, parameters and an additional-files tarball at URLs, with their
sha256) are downloaded from a real server, hash-checked and cached by hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from medperf_core.backends.rest import RestBackend
from medperf_core.errors import IntegrityError, ServerError
from medperf_core.profiles import Profile
from medperf_core.services.containers import materialize
from medperf_core.services.tarballs import make_tarball
from medperf_core.testing.server import ServerProcess, start_server

CONFIG = {
    "container_type": "DockerImage",
    "image": "example/model:1",
    "tasks": {
        "infer": {
            "run_args": {"command": "python3 /infer.py"},
            "input_volumes": {
                "data_path": {"mount_path": "/data", "type": "directory"},
                "parameters_file": {"mount_path": "/params.yaml", "type": "file"},
                "additional_files": {"mount_path": "/extra", "type": "directory"},
            },
            "output_volumes": {"output_path": {"mount_path": "/out", "type": "directory"}},
        }
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("container-files")
    running = start_server(data / "db", env={"MEDPERF_HOME": str(data / "home")})
    yield running
    running.stop()


def _published(server: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    """A container row as MedPerf's server answers it: files at URLs, no inline config."""
    backend = RestBackend(Profile(name="r", server=server.url, token=server.token("testmo@example.com")))
    tmp_path.mkdir(parents=True)
    (tmp_path / "mlcube.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "parameters.yaml").write_text("threshold: 0.5\n")
    (tmp_path / "extra" / "weights").mkdir(parents=True)
    (tmp_path / "extra" / "weights" / "w.bin").write_bytes(b"\x00\x01weights")
    config, params, extra = (
        backend.upload_file(p)
        for p in (tmp_path / "mlcube.yaml", tmp_path / "parameters.yaml",
                  make_tarball(tmp_path / "extra", tmp_path / "extra.tar.gz"))
    )
    return {
        "id": 7, "name": "medperf-style", "image_hash": "ab" * 32,
        "git_mlcube_url": config["url"], "mlcube_hash": config["sha256"],
        "git_parameters_url": params["url"], "parameters_hash": params["sha256"],
        "additional_files_tarball_url": extra["url"], "additional_files_tarball_hash": extra["sha256"],
    }


def test_files_are_downloaded_checked_and_cached_by_hash(server: ServerProcess, tmp_path: Path) -> None:
    row = _published(server, tmp_path / "src")
    cache = tmp_path / "cache"
    local = materialize(row, cache)
    assert local.config.image == "example/model:1" and local.config.task("infer").command == ("python3", "/infer.py")
    assert local.parameters_file is not None and local.parameters_file.read_text() == "threshold: 0.5\n"
    assert local.additional_files is not None
    assert (local.additional_files / "weights" / "w.bin").read_bytes() == b"\x00\x01weights"
    assert local.image_hash == "ab" * 32
    # another container naming the same bytes shares the cache; nothing is downloaded again
    again = materialize({**row, "id": 8, "git_mlcube_url": "http://127.0.0.1:9/gone"}, cache)
    assert again.additional_files == local.additional_files and again.parameters_file == local.parameters_file
    assert sorted(p.name for p in (cache / "files").iterdir()) == sorted(
        (row["mlcube_hash"], row["parameters_hash"], row["additional_files_tarball_hash"])
    )


@pytest.mark.parametrize("which", ["mlcube", "parameters", "additional_files_tarball"])
def test_a_mismatch_names_the_container_the_url_and_the_hash(
    server: ServerProcess, tmp_path: Path, which: str
) -> None:
    row = _published(server, tmp_path / "src")
    field = "mlcube_hash" if which == "mlcube" else f"{which}_hash"
    url = row["git_mlcube_url" if which == "mlcube" else ("git_parameters_url" if which == "parameters" else
                                                           "additional_files_tarball_url")]
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(IntegrityError) as raised:
        materialize({**row, field: wrong}, tmp_path / "cache")
    message = raised.value.one_line()
    assert "container 7 (medperf-style)" in message and url in message and wrong in message
    assert not any(p.name == wrong for p in (tmp_path / "cache" / "files").iterdir())


def test_an_unreachable_file_is_one_clear_error(server: ServerProcess, tmp_path: Path) -> None:
    row = _published(server, tmp_path / "src")
    missing = f"{server.api}/files/{'0' * 64}"
    with pytest.raises(ServerError, match=r"container 7 \(medperf-style\)'s config: GET .* answered 404"):
        materialize({**row, "git_mlcube_url": missing, "mlcube_hash": "0" * 64}, tmp_path / "cache")
