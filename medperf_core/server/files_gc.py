"""Removing stored files that no registered entity references, once their grace period is over."""

from __future__ import annotations

import json
from pathlib import Path

from medperf_core.domain.resources import BENCHMARK, CONTAINER
from medperf_core.server.files import FILES_DIR, FileStore, StoredFile, referenced_hashes
from medperf_core.store.server_read_model import ServerReadModel

# The entities that name stored files: a container's config, parameters and additional files (by hash and URL), a
# benchmark's demo dataset. Datasets and results name no stored file.
REFERRING = (CONTAINER, BENCHMARK)


def referenced(reads: ServerReadModel) -> set[str]:
    """The sha256 of every file a registered container or benchmark names, in any field."""
    rows = (row for resource in REFERRING for row in reads.list(resource, None, 0).results)
    return referenced_hashes(json.dumps(row) for row in rows)


def collect_files(data_dir: Path, reads: ServerReadModel, grace_hours: float, *,
                  dry_run: bool = False) -> list[StoredFile]:
    """Remove (or, `dry_run`, only list) the files under `data_dir` that no entity references and that were last
    uploaded more than `grace_hours` ago. The references are read first: a file uploaded meanwhile is newer than
    any grace period, and so kept."""
    return FileStore(data_dir / FILES_DIR).collect(referenced(reads), grace_hours, dry_run=dry_run)
