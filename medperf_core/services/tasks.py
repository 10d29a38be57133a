"""Run one task of a local container through the profile's runner, logs into a known place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from medperf_core.containers.runner import RunRequest, RunResult
from medperf_core.services.client import Client
from medperf_core.services.containers import LocalContainer


def run_task(
    client: Client,
    container: LocalContainer,
    task: str,
    inputs: Mapping[str, Path],
    outputs: Mapping[str, Path],
    log_path: Path,
) -> RunResult:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    request = RunRequest(
        config=container.config,
        task=task,
        inputs={**container.mounts_for(task), **inputs},
        outputs=dict(outputs),
        log_path=log_path,
        expected_image_hash=container.image_hash or None,
        timeout=client.profile.container_timeout,
        gpus=client.profile.gpus,
    )
    return client.runner.run(request)
