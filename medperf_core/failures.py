"""What the machine did wrong, said as such: a full disk and a corrupt local database become one clear line with
what to do, instead of an OSError or sqlite3 error."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from medperf_core.errors import MedperfError

_FULL = ("database or disk is full", "disk i/o error")
_CORRUPT = ("database disk image is malformed", "file is not a database", "malformed database schema")


class DiskFullError(MedperfError):
    exit_code = 9


class CorruptDatabaseError(MedperfError):
    exit_code = 10


def _home() -> Path:
    from medperf_core.config import medperf_home

    return medperf_home()


def _free_mb(path: Path) -> float:
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free / 2**20
    except OSError:
        return 0.0


NEARLY_FULL_MB = 1.0  # a container that failed with less than this free under MEDPERF_HOME ran out of disk


def full_disk_behind(error: MedperfError) -> MedperfError:
    """A container that failed while MEDPERF_HOME has (almost) no space left failed for want of it (it could not
    write its outputs): say so, rather than blame the container or the data."""
    from medperf_core.errors import ContainerFailedError

    if isinstance(error, ContainerFailedError) and _free_mb(_home()) < NEARLY_FULL_MB:
        return translate(OSError(errno.ENOSPC, "No space left on device")) or error
    return error


def reason(error: BaseException) -> str:
    """What went wrong underneath a library's error, in words: the innermost operating-system reason (`Connection
    refused`, `No such file or directory`), not the reprs and tuples of the exceptions wrapped around it."""
    found: BaseException | None = error
    innermost = ""
    seen: set[int] = set()
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, OSError) and found.strerror:
            innermost = found.strerror
        found = found.__cause__ or found.__context__
    if innermost:
        return innermost
    for arg in getattr(error, "args", ()):  # e.g. urllib3's ('Connection aborted.', OSError(...)) without a chain
        if isinstance(arg, OSError) and arg.strerror:
            return arg.strerror
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return first[:200]


def translate(error: BaseException) -> MedperfError | None:
    """The MedperfError that says what `error` means for the user, or None when it is not one of these."""
    text = str(error).lower()
    full = (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(error, sqlite3.OperationalError) and any(s in text for s in _FULL)
    )
    if full:
        home = _home()
        return DiskFullError(
            f"no space left on device under MEDPERF_HOME ({home}): free {_free_mb(home):.0f} MB",
            "free some space (medperf storage cleanup removes leftovers), then run the same command again: "
            "nothing was recorded half-way",
        )
    if isinstance(error, sqlite3.DatabaseError) and any(s in text for s in _CORRUPT):
        return CorruptDatabaseError(
            f"the local database under {_home()} is corrupt ({error})",
            "save what is readable with `medperf events export -o FILE`, move the profile's events.db away (or "
            "restore a backup), then `medperf sync` brings back what the server knows",
        )
    return None
