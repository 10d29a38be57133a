"""`medperf server seed`: the entities each tutorial starts from, registered through the services as the demo users.

data      → containers 1 prep, 2 reference model, 3 metrics (testbo), 4 second model (testmo); benchmark 1
            "chestxray" (testbo) in OPERATION, approved by testadmin, models 2 and 4 approved
model     → containers 1-3 and benchmark 1 (the model owner registers model 4 themselves)
benchmark → containers 1-3 (the benchmark owner registers the benchmark themselves)
Seeding refuses a server that already has events (not idempotent on purpose: ids must be the tutorial's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from medperf_core.errors import ConflictError
from medperf_core.server.auth import DEMO_USERS
from medperf_core.server.services import Json, ServerServices
from medperf_core.services.hashing import file_hash, folders_hash

DEMOS = ("data", "benchmark", "model")
BENCHMARK_NAME = "chestxray"
_ORDER = ("prep", "model", "metrics")  # container ids 1, 2, 3; the second model is 4


def container_body(container: Any, image_id: str) -> Json:
    """The registration body of one tutorial container (config and parameters inline, hashes of the files)."""
    body: Json = {
        "name": f"{BENCHMARK_NAME}-{container.name}",
        "container_config": yaml.safe_load(container.config_path.read_text(encoding="utf-8")),
        "git_mlcube_url": container.config_path.resolve().as_uri(),
        "mlcube_hash": file_hash(container.config_path),
        "image_hash": image_id,
        "state": "OPERATION",
        "metadata": {"role": container.role, "image": container.image, "tutorial": True},
    }
    if container.parameters_path.exists():
        body["parameters_config"] = (
            yaml.safe_load(container.parameters_path.read_text(encoding="utf-8")) or {}
        )
        body["git_parameters_url"] = container.parameters_path.resolve().as_uri()
        body["parameters_hash"] = file_hash(container.parameters_path)
    extra = container.additional_files_path
    if extra is not None:
        body["additional_files_tarball_url"] = extra.resolve().as_uri()
        body["additional_files_tarball_hash"] = folders_hash([extra])
    return body


def _ordered_containers() -> list[Any]:
    from medperf_core.tutorial.images import tutorial_containers

    found = tutorial_containers()
    first = sorted(
        (c for c in found if c.role in _ORDER and c.name != "model-cnn"), key=lambda c: _ORDER.index(c.role)
    )
    return [*first, *(c for c in found if c not in first)]


def seed_demo(
    data_dir: Path, demo: str, *, build_images: bool = True, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Seed an empty server's data dir; returns one line per registered entity."""
    say = progress or (lambda _m: None)
    images: dict[str, str] = {}
    if build_images:
        from medperf_core.tutorial.images import build_tutorial_images

        say("building the tutorial images (fast when they exist)")
        images = build_tutorial_images(say)
    services = ServerServices.open(data_dir)
    try:
        events = services.store.head().position
        if events:
            raise ConflictError(
                f"the server in {data_dir} is not empty ({events} events)",
                f"start from a fresh database: medperf server reset --data-dir {data_dir} -y",
            )
        return _seed(services, demo, images)
    finally:
        services.close()


def _seed(services: ServerServices, demo: str, images: dict[str, str]) -> list[str]:
    admin, bo, mo = (services.users.identify(DEMO_USERS[f"test{r}@example.com"]) for r in ("admin", "bo", "mo"))
    lines = []
    containers = _ordered_containers()
    ids = {}
    for container in containers[:3] if demo != "data" else containers:
        owner = mo if container.name == "model-cnn" else bo
        row = services.containers.create(owner, container_body(container, images.get(container.name, "")))
        ids[container.name] = row["id"]
        lines.append(f"container {row['id']}: {row['name']} ({container.role}, owner {owner.email})")
    if demo == "benchmark":
        return lines
    prep, ref, metrics = (ids[c.name] for c in containers[:3])
    benchmark = services.benchmarks.create(
        bo,
        {
            "name": BENCHMARK_NAME,
            "description": "Tutorial: chest X-ray classification (normal vs pneumonia)",
            "docs_url": "",
            "data_preparation_mlcube": prep,
            "reference_model_mlcube": ref,
            "data_evaluator_mlcube": metrics,
            "state": "OPERATION",
        },
    )
    services.benchmarks.update(admin, benchmark["id"], {"approval_status": "APPROVED"})
    lines.append(
        f"benchmark {benchmark['id']}: {BENCHMARK_NAME} (OPERATION, approved; reference model {ref})"
    )
    if demo == "data":
        model = ids["model-cnn"]
        services.associations.request(mo, "model", {"model_mlcube": model, "benchmark": benchmark["id"]})
        services.associations.update(bo, "model", model, benchmark["id"], {"approval_status": "APPROVED"})
        lines.append(f"model {model} associated with benchmark {benchmark['id']} (approved)")
    return lines
