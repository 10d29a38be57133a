"""`.tar.gz` files as MedPerf publishes additional files and demo datasets: made reproducibly, extracted safely."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from medperf_core.errors import IntegrityError


def make_tarball(folder: Path, dest: Path) -> Path:
    """A `.tar.gz` of the folder's contents (paths relative to it): same files, same bytes, whenever it is made
    (sorted names, no times, owners or modes other than 0644/0755), so its sha256 can be published and checked."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o755 if path.is_dir() or info.mode & 0o100 else 0o644
            if path.is_file():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write(buffer.getvalue())
    return dest


def extract_tarball(archive: Path, dest: Path) -> Path:
    """Unpack into `dest`, refusing members that would land outside it, links out of it and device files."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise IntegrityError(f"{archive.name} is not a usable .tar.gz: {e}", "ask its owner to publish it again") from e
    return dest
