"""Every file a container or a benchmark publishes is fetched as MedPerf's client fetches it and matches its hash.

MedPerf's client downloads `git_mlcube_url`, `git_parameters_url`, `additional_files_tarball_url` and the benchmark's
`demo_dataset_tarball_url` with a plain GET (no token; http(s) only; its default CA bundle, which
REQUESTS_CA_BUNDLE names here) and compares the sha256 of the bytes with the published hash."""

from __future__ import annotations

import hashlib
import io
import tarfile
from typing import Any

import pytest
import requests
import yaml
from _interop_server import MedPerfServer
from _medperf_wire import MedPerfWire

PUBLISHED = {
    "mlcube": (
        ("git_mlcube_url", "mlcube_hash"),
        ("git_parameters_url", "parameters_hash"),
        ("additional_files_tarball_url", "additional_files_tarball_hash"),
    ),
    "benchmark": (("demo_dataset_tarball_url", "demo_dataset_tarball_hash"),),
}


def fetch(url: str) -> bytes:
    assert url.startswith("https://"), f"MedPerf's client fetches only http(s) URLs: {url}"
    with requests.get(url, timeout=30, allow_redirects=False) as response:
        assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text[:200]}"
        return response.content


def published(entity: dict[str, Any], kind: str) -> list[tuple[str, str, str]]:
    """(field, url, sha256) of every file the entity publishes."""
    return [(url, entity[url], entity[digest]) for url, digest in PUBLISHED[kind] if entity.get(url)]


def test_every_published_file_downloads_over_https_and_matches_its_hash(
    medperf_server: MedPerfServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(medperf_server.certificate))
    client = MedPerfWire(medperf_server.url, medperf_server.token("testdo@example.com"), medperf_server.certificate)
    benchmarks = client.get_list("/benchmarks/")
    containers = {  # what the tutorial's data owner downloads: each benchmark's containers and models
        c for b in benchmarks for c in (
            b["data_preparation_mlcube"], b["reference_model_mlcube"], b["data_evaluator_mlcube"],
            *(row["model_mlcube"] for row in client.get_list(f"/benchmarks/{b['id']}/models")),
        )
    }
    entities = [(client.get(f"/mlcubes/{c}/"), "mlcube") for c in sorted(containers)]
    entities += [(b, "benchmark") for b in benchmarks]
    assert len(entities) == 5, entities  # the seeded tutorial: 4 containers, 1 benchmark
    seen: set[str] = set()
    for entity, kind in entities:
        for field, url, digest in published(entity, kind):
            assert url.startswith(f"{medperf_server.url}/api/v0/files/"), (field, url)
            content = fetch(url)
            assert hashlib.sha256(content).hexdigest() == digest, f"{kind} {entity['id']} {field}: {url}"
            if field == "git_mlcube_url":
                config = yaml.safe_load(content)
                assert isinstance(config, dict) and config.get("tasks"), f"{kind} {entity['id']}: {config}"
            if field.endswith("tarball_url"):  # one .tar.gz, extracted by the client
                with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
                    assert tar.getnames(), f"{kind} {entity['id']} {field}: an empty tarball"
            seen.add(field)
    assert seen == {url for fields in PUBLISHED.values() for url, _ in fields}, seen


def test_the_demo_dataset_says_where_its_data_and_labels_are(
    medperf_server: MedPerfServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(medperf_server.certificate))
    client = MedPerfWire(medperf_server.url, medperf_server.token("testdo@example.com"), medperf_server.certificate)
    benchmark = client.get("/benchmarks/1/")
    with tarfile.open(fileobj=io.BytesIO(fetch(benchmark["demo_dataset_tarball_url"])), mode="r:gz") as tar:
        names = tar.getnames()
        paths_file = next(n for n in names if n.endswith("paths.yaml"))
        extracted = tar.extractfile(paths_file)
        assert extracted is not None
        paths = yaml.safe_load(extracted.read())
    root = paths_file.rsplit("paths.yaml", 1)[0]
    for key in ("data_path", "labels_path"):
        assert any(n.startswith(f"{root}{paths[key]}/") for n in names), (key, paths, names[:10])


def test_a_file_is_public_and_unknown_names_are_404(
    medperf_server: MedPerfServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(medperf_server.certificate))
    missing = requests.get(f"{medperf_server.url}/api/v0/files/{'0' * 64}", timeout=30)
    assert missing.status_code == 404 and "detail" in missing.json()


def test_a_config_registered_only_inline_is_published_for_medperfs_client(
    medperf_server: MedPerfServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MedPerf's client refuses a container without `git_mlcube_url` and reads the config only from there."""
    import uuid

    import _medperf_shapes as shapes

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(medperf_server.certificate))
    bo = MedPerfWire(medperf_server.url, medperf_server.token("testbo@example.com"), medperf_server.certificate)
    config = {
        "container_type": "DockerImage", "image": "example/model:1",
        "tasks": {"infer": {"input_volumes": {"data_path": {"mount_path": "/data", "type": "directory"}},
                            "output_volumes": {"output_path": {"mount_path": "/out", "type": "directory"}}}},
    }
    parameters = {"batch_size": 8}
    row = bo.post("/mlcubes/", {"name": f"i{uuid.uuid4().hex[:8]}", "container_config": config,
                                "parameters_config": parameters}, shapes.container)
    assert row["container_config"] == config  # the inline config stays (our client's fast path)
    for url, digest, expected in (("git_mlcube_url", "mlcube_hash", config),
                                  ("git_parameters_url", "parameters_hash", parameters)):
        content = fetch(row[url])
        assert hashlib.sha256(content).hexdigest() == row[digest] and yaml.safe_load(content) == expected
