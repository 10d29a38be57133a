"""Run one task of a local container through the profile's runner, logs into a known place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from medperf_core.containers.runner import RunRequest, RunResult
from medperf_core.profiles import Profile
from medperf_core.services.client import Client
from medperf_core.services.containers import LocalContainer

DEFAULT_TIMEOUT_S = 12 * 3600.0  # generous: a preparation of a large dataset; `none` (0) turns it off


def task_timeout(profile: Profile) -> float | None:
    """The profile's container timeout; unset: DEFAULT_TIMEOUT_S (on Slurm: its own time limit, when set);
    0 (`--container-timeout none`): no limit."""
    if profile.container_timeout is not None:
        return profile.container_timeout or None
    if profile.platform == "slurm" and profile.slurm.get("time_limit"):
        return None  # the Slurm runner applies its time limit
    return DEFAULT_TIMEOUT_S


def run_task(
    client: Client,
    container: LocalContainer,
    task: str,
    inputs: Mapping[str, Path],
    outputs: Mapping[str, Path],
    log_path: Path,
    optional_outputs: frozenset[str] = frozenset(),
) -> RunResult:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    request = RunRequest(
        config=container.config,
        task=task,
        inputs={**container.mounts_for(task), **inputs},
        outputs=dict(outputs),
        log_path=log_path,
        expected_image_hash=container.image_hash or None,
        timeout=task_timeout(client.profile),
        gpus=client.profile.gpus,
        optional_outputs=optional_outputs,
    )
    from medperf_core.containers import cancel

    with cancel.sigterm_unwinds():  # SIGTERM unwinds like Ctrl-C: the runner stops its container
        return client.runner.run(request)
