"""`medperf server seed`: the entities each tutorial starts from, registered through the services as the demo users.

data      → containers 1 prep, 2 reference model, 3 metrics (testbo), 4 second model (testmo); benchmark 1
            "chestxray" (testbo) in OPERATION, approved by testadmin, models 2 and 4 approved
model     → the demo users, containers 1 prep, 2 the CNN (reference), 3 metrics and benchmark 1 with its demo
            dataset, as the benchmark-owner tutorial leaves them (the model owner registers model 4 themselves)
benchmark → the demo users only (the benchmark owner registers everything themselves), as in MedPerf
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
    if build_images and demo != "benchmark":
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
        return _seed(services, demo, images, data_dir)
    finally:
        services.close()


def _seed(services: ServerServices, demo: str, images: dict[str, str], data_dir: Path) -> list[str]:
    admin, bo, mo, do = (
        services.users.identify(DEMO_USERS[f"test{r}@example.com"]) for r in ("admin", "bo", "mo", "do")
    )
    if demo == "benchmark":
        return [f"user {u.id}: {u.email}" for u in (admin, bo, mo, do)]
    if demo == "model":
        return _seed_model(services, images, data_dir, admin, bo)
    lines = []
    containers = _ordered_containers()
    ids = {}
    for container in containers:
        owner = mo if container.name == "model-cnn" else bo
        row = services.containers.create(owner, container_body(container, images.get(container.name, "")))
        ids[container.name] = row["id"]
        lines.append(f"container {row['id']}: {row['name']} ({container.role}, owner {owner.email})")
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
    model = ids["model-cnn"]
    services.associations.request(mo, "model", {"model_mlcube": model, "benchmark": benchmark["id"]})
    services.associations.update(bo, "model", model, benchmark["id"], {"approval_status": "APPROVED"})
    lines.append(f"model {model} associated with benchmark {benchmark['id']} (approved)")
    return lines


def _stored(data_dir: Path, path: Path) -> tuple[str, str]:
    """A file kept in the server's file store: its file:// URL (clients on this machine read it) and sha256."""
    from medperf_core.server.files import FILES_DIR, FileStore

    stored = FileStore(data_dir / FILES_DIR).save_path(path)
    return stored.path.resolve().as_uri(), stored.sha256


def _seed_model(services: ServerServices, images: dict[str, str], data_dir: Path, admin: Any, bo: Any) -> list[str]:
    """What the benchmark-owner tutorial leaves: its three containers and its approved, operational benchmark."""
    import tempfile

    from medperf_core.tutorial.images import tutorial_containers
    from medperf_core.tutorial.workspace import FOLDERS, make_workspace

    by_name = {c.name: c for c in tutorial_containers()}
    lines, ids = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_workspace(work, "benchmark")
        for folder in ("data_preparator", "model_custom_cnn", "metrics"):
            name, tarball = FOLDERS[folder]
            body = container_body(by_name[name], images.get(name, ""))
            body.pop("additional_files_tarball_url", None)
            body.pop("additional_files_tarball_hash", None)
            if tarball:
                body["additional_files_tarball_url"], body["additional_files_tarball_hash"] = _stored(
                    data_dir, work / folder / tarball)
            row = services.containers.create(bo, body)
            ids.append(row["id"])
            lines.append(f"container {row['id']}: {row['name']} (owner {bo.email})")
        demo_url, demo_hash = _stored(data_dir, work / "demo_data.tar.gz")
    benchmark = services.benchmarks.create(bo, {
        "name": "tutorial_bmk", "description": "MedPerf demo bmk", "demo_dataset_tarball_url": demo_url,
        "demo_dataset_tarball_hash": demo_hash, "data_preparation_mlcube": ids[0],
        "reference_model_mlcube": ids[1], "data_evaluator_mlcube": ids[2], "state": "OPERATION",
    })
    services.benchmarks.update(admin, benchmark["id"], {"approval_status": "APPROVED"})
    lines.append(f"benchmark {benchmark['id']}: tutorial_bmk (OPERATION, approved; reference model {ids[1]})")
    return lines
