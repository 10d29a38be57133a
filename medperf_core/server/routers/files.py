"""The handlers of the `upload_file`, `download_file` and `create_container` rows: files are content-addressed
(uploads are idempotent, downloads public, by sha256); a container's inline config is also published as a file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BeforeValidator

from medperf_core.endpoints import endpoint
from medperf_core.server.files import MB, FileStore, file_url
from medperf_core.server.http import caller, idempotency_key, services
from medperf_core.server.models import request_model
from medperf_core.server.services import Caller, ServerServices

_CREATE = endpoint("create_container")
if TYPE_CHECKING:
    from medperf_core.server.models import Body as ContainerCreate
elif _CREATE.body is not None:
    ContainerCreate = request_model(_CREATE.body, _CREATE.method)  # FastAPI reads the body's model from here


def files(request: Request) -> FileStore:
    store: FileStore = request.app.state.files
    return store


def public_base(request: Request) -> str:
    """`--public-url` when set, else the scheme and host the request was addressed to."""
    configured: str | None = request.app.state.settings.public_url
    return configured or str(request.base_url)


INLINE_FILES = (
    ("container_config", "git_mlcube_url", "mlcube_hash"),
    ("parameters_config", "git_parameters_url", "parameters_hash"),
)


def publish_inline(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """The URL and sha256 fields of a container config or parameters given only inline (without a URL or hash),
    stored as a YAML file: MedPerf's client reads a container's config only from `git_mlcube_url` (and refuses a
    container without one)."""
    import io

    import yaml

    published: dict[str, Any] = {}
    for inline, url, digest in INLINE_FILES:
        if data.get(inline) is None or data.get(url) or data.get(digest):
            continue
        text = yaml.safe_dump(data[inline], sort_keys=False).encode()  # ASCII: non-ASCII text is escaped
        stored = files(request).save(io.BytesIO(text))
        published[url], published[digest] = file_url(public_base(request), stored.sha256), stored.sha256
    return published


def _a_file_part(value: Any) -> Any:
    """A multipart part without a filename is a plain form value (text), never taken as the file's content."""
    if not hasattr(value, "read"):
        raise ValueError("send the file as a multipart file part (with a filename), not as a plain form value")
    return value


FilePart = Annotated[UploadFile, BeforeValidator(_a_file_part), File(description="The file (a multipart file part).")]


def upload(
    request: Request, file: FilePart, store: FileStore = Depends(files), _who: Caller = Depends(caller)
) -> dict[str, Any]:
    """Store the multipart file part `file` (at most the server's --max-file-mb, else 413); answers 201 with its
    absolute `url`, `sha256` and `size`."""
    max_bytes = int(request.app.state.settings.max_file_mb * MB)
    stored = store.save(file.file, max_bytes=max_bytes)
    return stored.describe(file_url(public_base(request), stored.sha256))


def download(sha256: str, store: FileStore = Depends(files)) -> FileResponse:
    stored = store.find(sha256)
    return FileResponse(stored.path, media_type="application/octet-stream", filename=sha256)


def create_container(
    request: Request, body: ContainerCreate, svc: ServerServices = Depends(services), who: Caller = Depends(caller),
    key: str | None = Depends(idempotency_key),
) -> dict[str, Any]:
    """The row's service call, with the URLs of what `publish_inline` published."""
    data = body.data()
    return svc.containers.create(who, data, key, published=publish_inline(request, data))
