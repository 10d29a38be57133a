"""What the client last read from the server about benchmarks and containers, kept under the profile's storage
so that preparation, the compatibility test and benchmark runs also work offline."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medperf_core.atomic import atomic_write
from medperf_core.errors import NotFoundError, PermissionDeniedError, ServerError
from medperf_core.services.client import Client


def _path(client: Client, kind: str, key: int | str) -> Path:
    return client.storage / "server-cache" / kind / f"{key}.json"


def _write(path: Path, value: Any) -> None:
    with atomic_write(path) as f:
        json.dump(value, f, sort_keys=True)


def _cached(client: Client, kind: str, key: int | str, fetch: Callable[[], Any]) -> Any:
    path = _path(client, kind, key)
    if client.offline:
        if not path.exists():
            raise ServerError(f"offline: {kind.rstrip('s')} {key} was never read from the server on this machine",
                              "run the command online once, then it also works offline")
        return json.loads(path.read_text(encoding="utf-8"))
    value = fetch()
    with contextlib.suppress(OSError):  # a cache only: a full disk fails the command's own writes, not this
        _write(path, value)
    return value


def container(client: Client, container_id: int) -> dict[str, Any]:
    found: dict[str, Any] = _cached(client, "containers", container_id,
                                    lambda: client.backend.get_container(container_id))
    return found


def benchmark(client: Client, benchmark_id: int) -> dict[str, Any]:
    found: dict[str, Any] = _cached(client, "benchmarks", benchmark_id,
                                    lambda: client.backend.get_benchmark(benchmark_id))
    return found


def benchmark_models(client: Client, benchmark_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _cached(client, "benchmark-models", benchmark_id,
                                         lambda: client.backend.benchmark_models(benchmark_id))
    return rows


def warm_benchmark(client: Client, benchmark_id: int) -> dict[str, Any]:
    """The benchmark, its three containers, its models' rows and approved models read into the cache (offline).

    The models' rows are an optional read: MedPerf's server lets a data owner read them only once one of its datasets
    is approved for the benchmark, and a cache must never make a write fail; they are read again at the run."""
    found = benchmark(client, benchmark_id)
    for role in ("data_preparation_mlcube", "reference_model_mlcube", "data_evaluator_mlcube"):
        container(client, int(found[role]))
    try:
        models = benchmark_models(client, benchmark_id)
    except (PermissionDeniedError, NotFoundError):
        models = []
    for row in models:
        if row.get("approval_status") == "APPROVED":
            container(client, int(row["model_mlcube"]))
    return found
