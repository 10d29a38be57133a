"""Image references and the Docker registry API (v2), read-only: what runners need to pull an image they lack.

A reference is `[registry/]repository[:tag][@sha256:digest]`, with Docker's rule for the registry: the first
component names one when it holds a `.` or a `:` or is `localhost`; otherwise it is Docker Hub. Registries on
loopback are spoken to over plain HTTP, as Docker does for them by default.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from typing import Any

import attrs

from medperf_core.containers.execution import ImageDefaults
from medperf_core.errors import RunnerError

DOCKER_HUB = "docker.io"
INSTALL_HINT = (
    "a registry on localhost:5000 starts with: docker run -d -p 5000:5000 --restart always registry:2; "
    "in a source checkout, sudo scripts/install-engines.sh starts it"
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
_TIMEOUT_S = 30.0


@attrs.frozen
class ImageRef:
    """A parsed image reference; `registry` is None for Docker Hub."""

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def host(self) -> str:
        return self.registry or DOCKER_HUB

    @property
    def plain_http(self) -> bool:
        """A loopback registry: Docker, and Apptainer with --no-https, talk to it without TLS."""
        host = self.registry or ""
        host = host.partition("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
        return host in ("localhost", "[::1]") or host.startswith("127.")

    @property
    def name(self) -> str:
        """registry/repository, without tag or digest (what `docker pull` takes with a separate tag)."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def reference(self) -> str:
        """The digest when pinned, else the tag (default `latest`): what the registry's manifest URL ends with."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        return self.name + (f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}")


def parse_image(image: str) -> ImageRef:
    """Split a reference into registry, repository, tag and digest (no network)."""
    rest, _, digest = image.strip().partition("@")
    registry: str | None = None
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    tag: str | None = None
    repository, colon, maybe_tag = rest.rpartition(":")
    if colon and "/" not in maybe_tag:
        tag = maybe_tag
    else:
        repository = rest
    return ImageRef(registry, repository, tag, digest.lower() or None)


def pinned(image: str) -> bool:
    """True when the reference names its image by digest (`...@sha256:<64 hex>`)."""
    digest = parse_image(image).digest
    return bool(digest and _DIGEST.match(digest))


def pull_error(image: str, detail: str, *, local_hint: str = "") -> RunnerError:
    """One error for every failed pull: the image, the registry, what went wrong and what to do."""
    ref = parse_image(image)
    if ref.registry is None:
        fix = (
            f"{local_hint or 'build the image locally'}, or name it by a registry this machine reaches "
            f"(e.g. localhost:5000/{ref.repository}@sha256:...)"
        )
    else:
        fix = (
            f"check that the registry {ref.host} runs and holds {ref.name} ({INSTALL_HINT}); "
            f"or {local_hint or 'build the image locally under that name'}"
        )
    return RunnerError(
        f"image {image} is not present locally and pulling it from the registry {ref.host} failed: {detail}", fix
    )


def _url(ref: ImageRef, kind: str, reference: str) -> str:
    scheme = "http" if ref.plain_http else "https"
    host = "registry-1.docker.io" if ref.registry is None else ref.registry
    repository = ref.repository if ref.registry or "/" in ref.repository else f"library/{ref.repository}"
    return f"{scheme}://{host}/v2/{repository}/{kind}/{reference}"


def _open(ref: ImageRef, request: urllib.request.Request) -> Any:
    """A loopback registry is reached directly, whatever proxy the environment names."""
    handlers = [urllib.request.ProxyHandler({})] if ref.plain_http else []
    return urllib.request.build_opener(*handlers).open(request, timeout=_TIMEOUT_S)


def _get(image: str, ref: ImageRef, url: str, accept: str = "") -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with _open(ref, request) as response:
            return response.read(), str(response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as e:
        what = "not found (was it pushed?)" if e.code == 404 else f"HTTP {e.code} {e.reason}"
        raise pull_error(image, f"{url}: {what}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise pull_error(image, f"{url}: {reason}") from None


def _checked(image: str, body: bytes, digest: str, what: str) -> bytes:
    actual = "sha256:" + hashlib.sha256(body).hexdigest()
    if actual != digest:
        raise pull_error(image, f"the registry's {what} has digest {actual}, not {digest}")
    return body


def _manifest(image: str, ref: ImageRef) -> dict[str, Any]:
    body, content_type = _get(image, ref, _url(ref, "manifests", ref.reference), ", ".join(_MANIFEST_TYPES))
    if ref.digest:
        _checked(image, body, ref.digest, "manifest")
    manifest: dict[str, Any] = json.loads(body)
    kind = str(manifest.get("mediaType") or content_type)
    if "list" in kind or "index" in kind:  # several platforms: the one this machine runs
        for entry in manifest.get("manifests", []):
            platform = entry.get("platform", {})
            if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
                inner = attrs.evolve(ref, digest=str(entry["digest"]))
                return _manifest(image, inner)
        raise pull_error(image, "the registry has no linux/amd64 image under that name")
    return manifest


def image_config(image: str) -> tuple[str, ImageDefaults]:
    """The image id (its config's digest, what `docker image inspect` calls Id) and its ENTRYPOINT, CMD and
    working directory, read from the registry; manifest and config are checked against their digests."""
    ref = parse_image(image)
    manifest = _manifest(image, ref)
    try:
        config_digest = str(manifest["config"]["digest"])
    except (KeyError, TypeError):
        raise pull_error(image, "the registry's manifest names no image config") from None
    blob = _get(image, ref, _url(ref, "blobs", config_digest))[0]
    config = json.loads(_checked(image, blob, config_digest, "config"))
    return config_digest, ImageDefaults.from_docker(config.get("config"))


def manifest_exists(image: str) -> bool:
    """Whether the registry holds the reference's manifest (False when it cannot be reached)."""
    ref = parse_image(image)
    request = urllib.request.Request(
        _url(ref, "manifests", ref.reference), method="HEAD", headers={"Accept": ", ".join(_MANIFEST_TYPES)}
    )
    try:
        with _open(ref, request):
            return True
    except (urllib.error.URLError, OSError):
        return False
