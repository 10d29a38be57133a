"""Image references as Docker reads them: which registry, which repository, tag or digest, plain HTTP or not."""

from __future__ import annotations

import pytest

from medperf_core.containers.registry import parse_image, pinned, pull_error

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "registry", "repository", "reference", "plain_http"),
    [
        ("busybox", None, "busybox", "latest", False),
        ("medperf-tutorial/prep:1", None, "medperf-tutorial/prep", "1", False),
        (f"localhost:5000/medperf-tutorial/prep@{DIGEST}", "localhost:5000", "medperf-tutorial/prep", DIGEST, True),
        (f"localhost/a:2@{DIGEST}", "localhost", "a", DIGEST, True),
        ("127.0.0.1:5000/ns/a/b:2", "127.0.0.1:5000", "ns/a/b", "2", True),
        ("[::1]:5000/x", "[::1]:5000", "x", "latest", True),
        ("registry.example.org:443/team/model:v3", "registry.example.org:443", "team/model", "v3", False),
        ("team/model:v3", None, "team/model", "v3", False),
    ],
)
def test_references_split_as_docker_splits_them(
    image: str, registry: str | None, repository: str, reference: str, plain_http: bool
) -> None:
    ref = parse_image(image)
    assert (ref.registry, ref.repository, ref.reference, ref.plain_http) == (registry, repository, reference,
                                                                              plain_http)
    assert str(parse_image(str(ref))) == str(ref)


def test_only_a_full_sha256_digest_pins_an_image() -> None:
    assert pinned(f"localhost:5000/a@{DIGEST}")
    assert not pinned("localhost:5000/a:1") and not pinned("localhost:5000/a@sha256:abc")


def test_a_pull_error_names_the_image_the_registry_and_the_fix() -> None:
    local = pull_error(f"localhost:5000/a@{DIGEST}", "connection refused")
    assert local.message == (
        f"image localhost:5000/a@{DIGEST} is not present locally and pulling it from the registry localhost:5000 "
        "failed: connection refused"
    )
    assert local.hint and "scripts/install-engines.sh" in local.hint
    hub = pull_error("team/model:v3", "no such host")
    assert "registry docker.io" in hub.message and hub.hint and "localhost:5000/team/model@sha256:" in hub.hint
