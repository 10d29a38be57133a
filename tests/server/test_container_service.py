"""Containers' existence, as the rules of other entities ask it: remembered once seen, never remembered missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medperf_core.domain.callers import Caller
from medperf_core.server.services import ServerServices
from medperf_core.server.services.containers import ContainerService

CONFIG = {"container_type": "DockerImage", "image": "x/y:1",
          "tasks": {"infer": {"run_args": {"command": "true"}, "input_volumes": {}, "output_volumes": {}}}}


class CountingReads:
    """The read model, counting the existence questions that reach the database."""

    def __init__(self, reads: Any) -> None:
        self.reads = reads
        self.asked: list[int] = []

    def exists(self, resource: Any, entity_id: int) -> bool:
        self.asked.append(entity_id)
        return bool(self.reads.exists(resource, entity_id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reads, name)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[ServerServices]:
    svc = ServerServices.open(tmp_path / "server")
    yield svc
    svc.close()


def test_a_container_seen_once_is_not_asked_for_again(services: ServerServices) -> None:
    owner = Caller(id=1, email="bo@example.com")
    counting = CountingReads(services.reads)
    containers = ContainerService(counting, services.containers.writer)  # type: ignore[arg-type]
    created = services.containers.create(owner, {"name": "prep", "container_config": CONFIG})["id"]

    assert containers.exists(created) and containers.exists(created) and containers.exists(created)
    assert counting.asked == [created]


def test_a_missing_container_is_asked_again_and_found_once_registered(services: ServerServices) -> None:
    owner = Caller(id=1, email="bo@example.com")
    counting = CountingReads(services.reads)
    containers = ContainerService(counting, services.containers.writer)  # type: ignore[arg-type]

    assert not containers.exists(1) and not containers.exists(1)
    created = services.containers.create(owner, {"name": "prep", "container_config": CONFIG})["id"]
    assert created == 1 and containers.exists(1)
    assert counting.asked == [1, 1, 1]
